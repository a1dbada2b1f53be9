// The store config loader: GET {api_base}/store/config (or the ext config's config_url).
//
// Shape (docs/store-config.md is the reference):
//   { schema_version, version, hash,
//     store: { slug, name, industry, logo, promoter_name, distribution_enabled, service_phone, … },
//     theme: { primary, cta, background, text },
//     pages: { home: { title, blocks: [{ id, type, data }] }, me, promoter, category, product },
//     aftersales_policy }
//
// The answer carries an ETag (the hash); the body is kept in storage (fz_store_config) with it and
// sent back as If-None-Match, so an unchanged config is a 304 with no body. The cached copy is
// shown at once on start (stale-while-revalidate) and kept when the network fails.
import { reactive } from 'vue'

import { apiContext } from '../api/context.js'
import { buildUrl, headerValue, request } from '../api/client.js'
import { KEYS, getItem, removeItem, setItem } from '../utils/storage.js'

export const SUPPORTED_SCHEMA = 1

export const storeConfig = reactive({
  data: null, // the config (normalised)
  loading: false,
  error: null, // the last ApiError (data may still hold the cached copy)
  fromCache: false,
})

let inflight = null
let fetchedAt = 0 // when the last answer (200 or 304) arrived
const FRESH_MS = 30000 // a non-forced load within this reuses it (App and first page both ask)
let warnedSchema = false

/** What request() is given: the ext config's absolute config_url, else the API path. */
function configSource() {
  return apiContext().configUrl || '/store/config'
}

/** The full address (also the cache's key, so a copy from another API base is never reused). */
export function configUrl() {
  return buildUrl(configSource())
}

function asObject(value) {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
}

/** Defensive copy: every page has a blocks array of {id, type, data} objects. */
export function normaliseConfig(raw) {
  const cfg = asObject(raw)
  if (Number(cfg.schema_version) > SUPPORTED_SCHEMA && !warnedSchema) {
    warnedSchema = true
    console.warn(`[config] schema_version ${cfg.schema_version} is newer than this build (${SUPPORTED_SCHEMA})`)
  }
  const pages = {}
  for (const [name, page] of Object.entries(asObject(cfg.pages))) {
    const p = asObject(page)
    const blocks = Array.isArray(p.blocks) ? p.blocks : []
    pages[name] = {
      ...p,
      title: typeof p.title === 'string' ? p.title : '',
      blocks: blocks
        .filter((b) => b && typeof b === 'object' && typeof b.type === 'string')
        .map((b, i) => ({ id: String(b.id ?? `${name}-${i}`), type: b.type, data: asObject(b.data) })),
    }
  }
  return { ...cfg, store: asObject(cfg.store), theme: asObject(cfg.theme), pages }
}

function readCache(src) {
  const cached = getItem(KEYS.storeConfig)
  return cached && cached.src === src && cached.data ? cached : null
}

async function fetchConfig(src) {
  const cached = readCache(src)
  const path = configSource()
  const header = cached && cached.etag ? { 'If-None-Match': cached.etag } : {}
  let res = await request(path, { raw: true, header, auth: false, redirectOn401: false })
  if (res.status === 304 && !cached) {
    res = await request(path, { raw: true, auth: false, redirectOn401: false }) // no copy to reuse
  }
  if (res.status === 304) return { data: cached.data, fromCache: true }
  const data = normaliseConfig(res.data)
  const etag = headerValue(res.headers, 'ETag') || (data.hash ? `"${data.hash}"` : '')
  setItem(KEYS.storeConfig, { src, etag, data })
  return { data, fromCache: false }
}

/**
 * Loads (or revalidates) the config; resolves the config. Concurrent callers share one request.
 * Rejects only when there is neither an answer nor a cached copy.
 */
export function loadStoreConfig({ force = false } = {}) {
  const src = configUrl()
  if (!storeConfig.data) {
    const cached = readCache(src)
    if (cached) {
      storeConfig.data = normaliseConfig(cached.data)
      storeConfig.fromCache = true
    }
  }
  if (inflight && !force) return inflight
  if (!force && storeConfig.data && !storeConfig.error && Date.now() - fetchedAt < FRESH_MS) {
    return Promise.resolve(storeConfig.data)
  }
  storeConfig.loading = true
  const job = fetchConfig(src)
    .then(({ data, fromCache }) => {
      storeConfig.data = data
      storeConfig.fromCache = fromCache
      storeConfig.error = null
      fetchedAt = Date.now()
      return data
    })
    .catch((error) => {
      storeConfig.error = error
      if (storeConfig.data) return storeConfig.data
      throw error
    })
    .finally(() => {
      if (inflight === job) inflight = null
      storeConfig.loading = false
    })
  inflight = job
  return job
}

export function clearStoreConfigCache() {
  removeItem(KEYS.storeConfig)
}

export function pageConfig(name) {
  return (storeConfig.data && storeConfig.data.pages && storeConfig.data.pages[name]) || { title: '', blocks: [] }
}
