// Products of a product block, refetched when its query changes or the page is pulled to refresh
// (uni.$emit('fz:refresh')). Failures are kept in `error` (the block shows a retry), never thrown.
import { onMounted, onUnmounted, ref, watch } from 'vue'

import { blockProductQuery, productsForBlock } from '../api/catalog.js'

export function useBlockProducts(getData) {
  const products = ref([])
  const loading = ref(false)
  const error = ref(null)
  const loaded = ref(false) // a first answer arrived (an empty block then hides itself)
  let seq = 0

  async function load() {
    const data = getData() || {}
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const rows = await productsForBlock(data)
      if (mine === seq) {
        products.value = rows
        loaded.value = true
      }
    } catch (e) {
      if (mine === seq) error.value = e
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  watch(() => JSON.stringify(blockProductQuery(getData() || {})), load)
  onMounted(() => {
    load()
    uni.$on('fz:refresh', load)
  })
  onUnmounted(() => uni.$off('fz:refresh', load))

  return { products, loading, loaded, error, reload: load }
}
