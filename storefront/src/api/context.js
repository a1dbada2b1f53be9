// Where the API is and which store it is, per platform.
//
// H5: served at https://{store-slug}.<domain>/h5/, the API is same-origin /api/v1 and the store is
//     chosen by the host. Nothing to configure.
// Mini-programs (WeChat, Douyin): one code package serves every store; the third-party platform
//     commits it with an ext config per store, read here with uni.getExtConfigSync():
//       { tenant_id, api_base: "https://api.<domain>/api/v1", config_url, appid }
//     and every request carries X-WX-AppID: <appid> (the shared API host resolves the store by it).
//     Local development without the platform: VITE_FZ_API_BASE / VITE_FZ_APPID in .env.local.

let cached = null

function trimSlash(url) {
  return String(url || '').replace(/\/+$/, '')
}

function readExtConfig() {
  try {
    if (typeof uni.getExtConfigSync === 'function') return uni.getExtConfigSync() || {}
  } catch (e) {
    console.warn('[api] getExtConfigSync failed', e)
  }
  return {}
}

function ownAppId() {
  try {
    return uni.getAccountInfoSync().miniProgram.appId || ''
  } catch (e) {
    return ''
  }
}

export function apiContext() {
  if (cached) return cached
  const env = import.meta.env || {}
  // #ifdef H5
  cached = {
    platform: 'h5',
    base: '/api/v1',
    appid: '',
    tenantId: null,
    configUrl: '',
  }
  // #endif
  // #ifndef H5
  const ext = readExtConfig()
  cached = {
    platform: process.env.UNI_PLATFORM,
    base: trimSlash(ext.api_base || env.VITE_FZ_API_BASE || ''),
    appid: ext.appid || env.VITE_FZ_APPID || ownAppId(),
    tenantId: ext.tenant_id ?? null,
    configUrl: ext.config_url || '',
  }
  if (!cached.base) console.error('[api] no api_base: the ext config is missing (see storefront/README.md)')
  // #endif
  return cached
}

/** For tests / after the ext config changed (never needed in production). */
export function resetApiContext() {
  cached = null
}
