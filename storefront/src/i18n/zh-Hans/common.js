// Shared words: actions, states, errors. Keys: common.<group>.<name>.
export default {
  appName: '分销云商城',
  actions: {
    retry: '重试',
    more: '更多',
    viewAll: '查看全部',
    confirm: '确定',
    cancel: '取消',
    back: '返回',
    goHome: '回到首页',
    login: '登录',
  },
  states: {
    loading: '加载中…',
    empty: '暂无内容',
    coming: '功能即将上线，敬请期待',
    noMore: '没有更多了',
  },
  errors: {
    network: '网络不太好，请检查网络后重试',
    timeout: '请求超时，请稍后再试',
    server: '服务器开小差了，请稍后再试',
    unknown: '出错了，请稍后再试',
    config: '店铺配置加载失败',
    noApiBase: '小程序未配置接口地址（ext.json 的 api_base）',
    sessionExpired: '登录已失效，请重新登录',
    linkUnsupported: '小程序内无法打开此链接，已复制到剪贴板',
  },
}
