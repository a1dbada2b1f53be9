// The API client and the store-config loader against a fake `uni` (node --test tests/unit/).
// In node the #ifdef comments are inert, so apiContext() takes the mini-program path: the ext
// config below supplies api_base and appid.
import { test, beforeEach } from 'node:test'
import assert from 'node:assert/strict'

const storage = new Map()
const calls = []
const navigations = []
let respond = () => ({ statusCode: 200, data: {}, header: {} })

globalThis.uni = {
  getLocale: () => 'zh-Hans',
  onLocaleChange: () => {},
  getExtConfigSync: () => ({ tenant_id: 7, api_base: 'https://api.example.com/api/v1/', appid: 'wxa1b2c3d4e5f60001' }),
  getStorageSync: (k) => (storage.has(k) ? storage.get(k) : ''),
  setStorageSync: (k, v) => storage.set(k, JSON.parse(JSON.stringify(v))),
  removeStorageSync: (k) => storage.delete(k),
  navigateTo: (o) => {
    navigations.push(o.url)
    o.complete && o.complete()
  },
  request: (o) => {
    calls.push(o)
    const r = respond(o)
    setTimeout(() => (r.fail ? o.fail({ errMsg: r.fail }) : o.success(r)), 0)
  },
}
globalThis.getCurrentPages = () => [{ route: 'pages/cart/index', options: { a: '1' } }]

const { request, ApiError, newIdempotencyKey } = await import('../../src/api/client.js')
const { placeOrder } = await import('../../src/api/orders.js')
const { blockProductQuery, productsForBlock } = await import('../../src/api/catalog.js')
const { loadStoreConfig, storeConfig } = await import('../../src/config/index.js')

beforeEach(() => {
  calls.length = 0
  navigations.length = 0
})

test('mini-program request: base from the ext config, X-WX-AppID, bearer token, language', async () => {
  storage.set('fz_token', 'tok-1')
  respond = () => ({ statusCode: 200, data: { ok: 1 }, header: {} })
  const data = await request('/products', { query: { category: 3, sort: undefined, ids: [1, 2] } })
  assert.deepEqual(data, { ok: 1 })
  assert.equal(calls[0].url, 'https://api.example.com/api/v1/products?category=3&ids=1%2C2')
  assert.equal(calls[0].header['X-WX-AppID'], 'wxa1b2c3d4e5f60001')
  assert.equal(calls[0].header.Authorization, 'Bearer tok-1')
  assert.equal(calls[0].header['Accept-Language'], 'zh-hans')
})

test('the one error shape becomes an ApiError with status, message and field paths', async () => {
  respond = () => ({
    statusCode: 400,
    data: { error: { code: 'invalid', message: '提交的内容有误，请检查。', fields: { 'items[0].quantity': ['数量至少为 1。'] } } },
    header: {},
  })
  await assert.rejects(request('/orders', { method: 'POST', data: {} }), (e) => {
    assert.ok(e instanceof ApiError)
    assert.ok(e instanceof Error)
    assert.equal(e.status, 400)
    assert.equal(e.code, 'invalid')
    assert.equal(e.message, '提交的内容有误，请检查。')
    assert.equal(e.fieldMessage('items[0].quantity'), '数量至少为 1。')
    return true
  })
})

test('a non-JSON error page and a network failure get local messages', async () => {
  respond = () => ({ statusCode: 502, data: '<html>Bad gateway</html>', header: {} })
  await assert.rejects(request('/products'), (e) => e.status === 502 && e.message === '服务器开小差了，请稍后再试')
  respond = () => ({ fail: 'request:fail' })
  await assert.rejects(request('/products'), (e) => e.status === 0 && e.code === 'network')
  assert.equal(calls.length, 2 + 1, 'a GET is retried once after a network failure')
})

test('401 clears the token and opens the login page with a way back', async () => {
  storage.set('fz_token', 'expired')
  respond = () => ({ statusCode: 401, data: { error: { code: 'not_authenticated', message: '请先登录。', fields: {} } }, header: {} })
  await assert.rejects(request('/orders'), (e) => e.status === 401 && e.message === '请先登录。')
  assert.equal(storage.has('fz_token'), false)
  assert.equal(navigations[0], '/pages/login/index?redirect=%2Fpages%2Fcart%2Findex%3Fa%3D1')
})

test('POST /orders carries the Idempotency-Key and retries with the same key', async () => {
  let n = 0
  respond = () => (n++ === 0 ? { fail: 'request:fail timeout' } : { statusCode: 201, data: { order_no: 'X1' }, header: {} })
  const key = newIdempotencyKey()
  assert.ok(key.length <= 64)
  const order = await placeOrder({ items: [{ product_id: 1, quantity: 1 }] }, key)
  assert.equal(order.order_no, 'X1')
  assert.equal(calls.length, 2)
  assert.equal(calls[0].header['Idempotency-Key'], key)
  assert.equal(calls[1].header['Idempotency-Key'], key)
  assert.throws(() => placeOrder({}, ''))
})

test('product block queries follow mall/api/catalog.py', async () => {
  assert.deepEqual(blockProductQuery({ source: 'hot', limit: 6 }), { hot: true, sort: undefined, limit: 6 })
  assert.deepEqual(blockProductQuery({ source: 'category', category_id: 4, sort: 'sales', limit: 500 }), {
    category: 4,
    sort: 'sales',
    limit: 100,
  })
  assert.equal(blockProductQuery({ source: 'picked', product_ids: [] }), null)
  respond = () => ({ statusCode: 200, data: { count: 2, results: [{ id: 2 }, { id: 9 }] }, header: {} })
  const rows = await productsForBlock({ source: 'picked', product_ids: [9, 2] })
  assert.deepEqual(rows.map((r) => r.id), [9, 2], 'picked products keep the merchant order')
  assert.match(calls[0].url, /\/products\?ids=9%2C2&limit=2$/)
})

test('store config: ETag stored, If-None-Match sent, 304 reuses the copy', async () => {
  const body = { schema_version: 1, version: 3, hash: 'h1', store: { name: '鲜果园' }, theme: {}, pages: { home: { title: '首页', blocks: [{ id: 'b1', type: 'banner', data: { items: [] } }, 'junk'] } } }
  respond = () => ({ statusCode: 200, data: body, header: { Etag: '"h1"' } })
  const first = await loadStoreConfig({ force: true })
  assert.equal(first.pages.home.blocks.length, 1)
  assert.equal(calls[0].url, 'https://api.example.com/api/v1/store/config')
  assert.equal(storage.get('fz_store_config').etag, '"h1"')
  respond = () => ({ statusCode: 304, data: '', header: {} })
  const again = await loadStoreConfig({ force: true })
  assert.equal(calls[1].header['If-None-Match'], '"h1"')
  assert.equal(again.version, 3)
  respond = () => ({ fail: 'request:fail' })
  const offline = await loadStoreConfig({ force: true })
  assert.equal(offline.version, 3, 'the cached copy is kept when offline')
  assert.equal(storeConfig.error.code, 'network')
})
