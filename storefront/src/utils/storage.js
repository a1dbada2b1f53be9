// Every storage key the storefront uses, in one place (prefix fz_). Values are JSON-able.
export const KEYS = {
  token: 'fz_token', // shopper session token (Authorization: Bearer …)
  pid: 'fz_pid', // promoter id from a share link (?pid=…), with the time it was seen
  storeConfig: 'fz_store_config', // { src, etag, data } of GET /store/config
}

export function getItem(key, fallback = null) {
  try {
    const value = uni.getStorageSync(key)
    return value === '' || value === undefined || value === null ? fallback : value
  } catch (e) {
    return fallback
  }
}

export function setItem(key, value) {
  try {
    uni.setStorageSync(key, value)
  } catch (e) {
    console.warn('[storage] could not save', key, e)
  }
}

export function removeItem(key) {
  try {
    uni.removeStorageSync(key)
  } catch (e) {
    /* nothing to remove */
  }
}

export const getToken = () => getItem(KEYS.token, '')
export const setToken = (token) => setItem(KEYS.token, token)
export const clearToken = () => removeItem(KEYS.token)
