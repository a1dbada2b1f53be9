import common from './common.js'
import shop from './shop.js'
import promoter from './promoter.js'

export default { common, shop, promoter }
