// Catalog reads (mall/api/catalog.py). All public: no login needed.
//   GET /categories                       → [{ id, name, children: [{ id, name }] }]
//   GET /products?search&category&sort&hot&ids&limit&offset
//                                         → { count, next, previous, results: [row] }
//     row: { id, kind, title, subtitle, category, price_fen, price_display, stock, is_hot,
//            is_distributable, sales_count, cover }
//     sort: price | -price | sales | -sales | new (default: hot first, then id)
//     hot=1 only hot products; ids=3,8,12 (≤ 50) only those; limit 1–100 (default 20)
//   GET /products/{id}                    → row + description, images, skus, … (detail)
import { get } from './client.js'

export const SORTS = ['price', '-price', 'sales', '-sales', 'new']
const MAX_LIMIT = 100

export function listCategories() {
  return get('/categories')
}

export function listProducts({ search, category, sort, hot, ids, limit, offset } = {}) {
  return get('/products', {
    search,
    category,
    sort: SORTS.includes(sort) ? sort : undefined,
    hot: hot ? 1 : undefined,
    ids: Array.isArray(ids) ? ids.filter((id) => Number.isSafeInteger(Number(id))).join(',') : ids,
    limit: limit ? Math.min(Math.max(1, Number(limit) || 1), MAX_LIMIT) : undefined,
    offset,
  })
}

export function getProduct(id) {
  return get(`/products/${encodeURIComponent(id)}`)
}

/**
 * The product query of a product block (product_grid / product_list / campaign), from its data:
 *   { source: "hot" | "category" | "picked" | "new" | "all", category_id, product_ids, sort, limit }
 * Returns null when the block names nothing to show (picked with no ids).
 */
export function blockProductQuery(data = {}) {
  const limit = Math.min(Math.max(1, Number(data.limit) || 6), MAX_LIMIT)
  const sort = SORTS.includes(data.sort) ? data.sort : undefined
  const ids = data.product_ids || data.ids
  switch (data.source) {
    case 'picked':
    case 'ids':
      if (!Array.isArray(ids) || !ids.length) return null
      return { ids: ids.slice(0, 50), limit: Math.min(ids.length, 50) }
    case 'category':
      if (data.category_id === undefined || data.category_id === null) return null
      return { category: data.category_id, sort, limit }
    case 'new':
      return { sort: 'new', limit }
    case 'hot':
      return { hot: true, sort, limit }
    default:
      return { sort, limit }
  }
}

/** Products of a block, in the merchant's order for picked ids. */
export async function productsForBlock(data) {
  const query = blockProductQuery(data)
  if (!query) return []
  const page = await listProducts(query)
  const rows = (page && page.results) || []
  if (query.ids) {
    const order = new Map(query.ids.map((id, i) => [Number(id), i]))
    rows.sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9))
  }
  return rows
}
