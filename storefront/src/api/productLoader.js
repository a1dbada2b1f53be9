// Batches single-product reads from many blocks (travel_route, …) into one
// GET /products?ids=1,2,3 per tick, and remembers rows for the page's life.
import { listProducts } from './catalog.js'

const MAX_IDS = 50
const rows = new Map() // id → row
let queue = new Map() // id → [resolve, reject][]
let scheduled = false

async function flush() {
  scheduled = false
  const batch = queue
  queue = new Map()
  const ids = [...batch.keys()]
  for (let i = 0; i < ids.length; i += MAX_IDS) {
    const chunk = ids.slice(i, i + MAX_IDS)
    try {
      const page = await listProducts({ ids: chunk, limit: chunk.length })
      for (const row of (page && page.results) || []) rows.set(row.id, row)
      for (const id of chunk) for (const [resolve] of batch.get(id)) resolve(rows.get(id) || null)
    } catch (e) {
      for (const id of chunk) for (const [, reject] of batch.get(id)) reject(e)
    }
  }
}

/** The list row of product `id` (null if it is not on sale). */
export function loadProduct(id, { fresh = false } = {}) {
  const key = Number(id)
  if (!Number.isSafeInteger(key) || key <= 0) return Promise.resolve(null)
  if (!fresh && rows.has(key)) return Promise.resolve(rows.get(key))
  return new Promise((resolve, reject) => {
    if (!queue.has(key)) queue.set(key, [])
    queue.get(key).push([resolve, reject])
    if (!scheduled) {
      scheduled = true
      setTimeout(flush, 0)
    }
  })
}
