// The one request wrapper over uni.request. Every API call goes through request().
//
//   import { request, ApiError } from '@/api/client.js'
//   const page = await request('/products', { query: { category: 3, limit: 6 } })
//   await request('/orders', { method: 'POST', data: body, idempotencyKey: key })
//
// Errors: the server answers every error as {"error": {"code", "message", "fields"}}
// (mall/api/errors.py); fields maps a path such as "items[0].quantity" to messages. request()
// rejects with an ApiError carrying .status (0 = no answer), .code, .message (the server's,
// in the shopper's language; a local one when there is no JSON body) and .fields.
// 401 clears the token and opens the login page (unless { redirectOn401: false }).
import { apiLanguage, t } from '../i18n/index.js'
import { clearToken, getToken } from '../utils/storage.js'

import { apiContext } from './context.js'

export const LOGIN_PAGE = '/pages/login/index'
const DEFAULT_TIMEOUT = 15000

export class ApiError extends Error {
  constructor({ status = 0, code = 'error', message = '', fields = {}, data = null } = {}) {
    super(message || t('common.errors.unknown'))
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields && typeof fields === 'object' ? fields : {}
    this.data = data
  }

  /** First message for a field path ("items[0].quantity", "code", "non_field_errors"), or "". */
  fieldMessage(path) {
    const value = this.fields[path]
    if (Array.isArray(value)) return value.length ? String(value[0]) : ''
    return value ? String(value) : ''
  }

  /** Every field message flattened, for a toast when no field is on screen. */
  get allMessages() {
    return Object.values(this.fields).flat().map(String)
  }
}

/** A fresh key for one logical POST (an order): reuse the SAME key when retrying it. */
export function newIdempotencyKey() {
  const rand = () => Math.floor(Math.random() * 0x100000000).toString(36)
  return `fz-${Date.now().toString(36)}-${rand()}${rand()}`.slice(0, 64)
}

function encodeQuery(query) {
  if (!query) return ''
  const parts = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    const v = Array.isArray(value) ? value.join(',') : String(value)
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(v)}`)
  }
  return parts.length ? `?${parts.join('&')}` : ''
}

export function buildUrl(path, query) {
  const absolute = /^https?:\/\//i.test(path)
  const url = absolute ? path : `${apiContext().base}${path.startsWith('/') ? '' : '/'}${path}`
  const qs = encodeQuery(query)
  return qs ? `${url}${url.includes('?') ? '&' + qs.slice(1) : qs}` : url
}

/** Case-insensitive response header (uni returns them as the server or the browser spells them). */
export function headerValue(headers, name) {
  if (!headers) return ''
  const wanted = name.toLowerCase()
  for (const key of Object.keys(headers)) if (key.toLowerCase() === wanted) return headers[key]
  return ''
}

function errorFromResponse(status, data) {
  let body = data
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch (e) {
      body = null // an HTML page from a proxy: no server message
    }
  }
  const err = body && typeof body === 'object' ? body.error : null
  if (err && typeof err === 'object') {
    return new ApiError({ status, code: err.code || 'error', message: err.message, fields: err.fields, data: body })
  }
  const message = status >= 500 ? t('common.errors.server') : t('common.errors.unknown')
  return new ApiError({ status, code: status >= 500 ? 'server_error' : 'error', message, data })
}

let redirecting = false

function currentPageUrl() {
  const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : []
  const page = pages[pages.length - 1]
  if (!page || !page.route) return ''
  const options = page.options || (page.$page && page.$page.options) || {}
  const qs = encodeQuery(options)
  return `/${page.route}${qs}`
}

export function goLogin() {
  const here = currentPageUrl()
  if (redirecting || here.startsWith(LOGIN_PAGE)) return
  redirecting = true
  const redirect = here ? `?redirect=${encodeURIComponent(here)}` : ''
  uni.navigateTo({
    url: `${LOGIN_PAGE}${redirect}`,
    complete: () => setTimeout(() => (redirecting = false), 800),
  })
}

function send(options) {
  return new Promise((resolve) => {
    uni.request({
      ...options,
      dataType: 'json',
      success: (res) => resolve({ ok: true, status: res.statusCode, data: res.data, headers: res.header || {} }),
      fail: (res) => resolve({ ok: false, errMsg: (res && res.errMsg) || '' }),
    })
  })
}

/**
 * @param {string} path   "/products" (joined to the API base) or an absolute URL
 * @param {object} [o]
 * @param {string} [o.method="GET"]
 * @param {object} [o.query]          query parameters (undefined / null / "" are skipped; arrays joined by ",")
 * @param {any}    [o.data]           JSON body
 * @param {object} [o.header]         extra headers
 * @param {boolean}[o.auth=true]      send the shopper token when there is one
 * @param {string|boolean} [o.idempotencyKey]  Idempotency-Key header (true: a fresh one); makes the
 *                                    request safe to retry once after a network failure
 * @param {boolean}[o.redirectOn401=true]
 * @param {boolean}[o.raw=false]      resolve { status, data, headers } (2xx and 304) instead of data
 * @param {number} [o.retries]        retries after a network failure (default: 1 for GET and keyed requests)
 */
export async function request(path, o = {}) {
  const method = (o.method || 'GET').toUpperCase()
  const ctx = apiContext()
  const header = { Accept: 'application/json', 'Accept-Language': apiLanguage(), ...(o.header || {}) }
  if (ctx.appid) header['X-WX-AppID'] = ctx.appid
  const token = o.auth === false ? '' : getToken()
  if (token) header.Authorization = `Bearer ${token}`
  let key = o.idempotencyKey
  if (key === true) key = newIdempotencyKey()
  if (key) header['Idempotency-Key'] = key
  if (method !== 'GET' && o.data !== undefined) header['Content-Type'] = 'application/json'

  if (!ctx.base && !/^https?:\/\//i.test(path)) {
    throw new ApiError({ status: 0, code: 'no_api_base', message: t('common.errors.noApiBase') })
  }
  const url = buildUrl(path, o.query)
  let retries = o.retries ?? (method === 'GET' || key ? 1 : 0)
  for (;;) {
    const res = await send({ url, method, header, data: o.data, timeout: o.timeout || DEFAULT_TIMEOUT })
    if (!res.ok) {
      if (retries-- > 0) continue
      const timeout = /timeout|超时/i.test(res.errMsg)
      throw new ApiError({
        status: 0,
        code: timeout ? 'timeout' : 'network',
        message: t(timeout ? 'common.errors.timeout' : 'common.errors.network'),
      })
    }
    const { status, data, headers } = res
    if ((status >= 200 && status < 300) || status === 304) {
      return o.raw ? { status, data, headers } : status === 304 ? null : data
    }
    const error = errorFromResponse(status, data)
    if (status === 401) {
      clearToken()
      if (o.redirectOn401 !== false) goLogin()
    }
    throw error
  }
}

export const get = (path, query, o = {}) => request(path, { ...o, method: 'GET', query })
export const post = (path, data, o = {}) => request(path, { ...o, method: 'POST', data })
export const put = (path, data, o = {}) => request(path, { ...o, method: 'PUT', data })
export const patch = (path, data, o = {}) => request(path, { ...o, method: 'PATCH', data })
export const del = (path, o = {}) => request(path, { ...o, method: 'DELETE' })
