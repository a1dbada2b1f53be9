// Where a tap on a block goes. A block item names its target either with a shortcut field
// (product_id, category_id) or a link:
//   { type: "product", id }            product detail
//   { type: "category", id }           the category tab, opened on that category
//   { type: "search", keyword }        the search page
//   { type: "page", path }             an internal page ("/pages/…" or "/pkg-…/…")
//   { type: "promoter" }               the promoter centre
//   { type: "url", url }               external: H5 opens it; mini-programs copy it (no web-view domain)
//   "/pages/…"                          shorthand for { type: "page", path }
import { t } from '../i18n/index.js'

import { ROUTES, TAB_PAGES } from './routes.js'

let pendingCategory = null

/** The category a link asked the category tab to open (read once by that page). */
export function takePendingCategory() {
  const id = pendingCategory
  pendingCategory = null
  return id
}

export function go(url) {
  const path = url.split('?')[0]
  if (TAB_PAGES.includes(path)) return uni.switchTab({ url: path })
  return uni.navigateTo({
    url,
    fail: (e) => console.warn('[links] cannot open', url, e && e.errMsg),
  })
}

export function openProduct(id) {
  if (id === undefined || id === null || id === '') return
  go(`${ROUTES.product}?id=${encodeURIComponent(id)}`)
}

export function openCategory(id) {
  pendingCategory = id ?? null
  uni.$emit('fz:open-category', pendingCategory)
  go(ROUTES.category)
}

export function openSearch(keyword = '') {
  go(keyword ? `${ROUTES.search}?keyword=${encodeURIComponent(keyword)}` : ROUTES.search)
}

function openExternal(url) {
  // #ifdef H5
  window.location.href = url
  // #endif
  // #ifndef H5
  uni.setClipboardData({
    data: url,
    success: () => uni.showToast({ title: t('common.errors.linkUnsupported'), icon: 'none' }),
  })
  // #endif
}

/** The link of a block item: its `link`, else its product_id / category_id shortcut, else null. */
export function linkOf(item) {
  if (!item || typeof item !== 'object') return null
  if (item.link) return item.link
  if (item.product_id !== undefined && item.product_id !== null) return { type: 'product', id: item.product_id }
  if (item.category_id !== undefined && item.category_id !== null) return { type: 'category', id: item.category_id }
  return null
}

export function openLink(link) {
  if (!link) return false
  if (typeof link === 'string') link = /^https?:\/\//i.test(link) ? { type: 'url', url: link } : { type: 'page', path: link }
  switch (link.type) {
    case 'product':
      openProduct(link.id ?? link.product_id)
      return true
    case 'category':
      openCategory(link.id ?? link.category_id)
      return true
    case 'search':
      openSearch(link.keyword || '')
      return true
    case 'promoter':
      go(ROUTES.promoterCentre)
      return true
    case 'page':
      if (typeof link.path === 'string' && /^\/(pages|pkg-[\w-]+)\//.test(link.path)) {
        go(link.path)
        return true
      }
      break
    case 'url':
      if (typeof link.url === 'string' && /^https?:\/\//i.test(link.url)) {
        openExternal(link.url)
        return true
      }
      break
    default:
  }
  console.warn('[links] unsupported link', link)
  return false
}
