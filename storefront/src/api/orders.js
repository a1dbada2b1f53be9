// Orders (mall/api/views.py OrdersView). Login required.
//   POST /orders  { items: [{ sku_id | product_id, quantity }], address_id?, remark?, from_cart? }
//                 Idempotency-Key: the same key on a retry returns the first order (200, not 201).
//
// Usage: make ONE key per checkout attempt (when the confirm button is first tapped) and keep it
// until the order is placed; a retry after a network failure or a double tap reuses it.
//   const key = newIdempotencyKey()
//   const order = await placeOrder(body, key)
import { get, newIdempotencyKey, post } from './client.js'

export { newIdempotencyKey }

export function placeOrder(body, idempotencyKey) {
  if (!idempotencyKey) throw new Error('placeOrder needs an Idempotency-Key (newIdempotencyKey())')
  return post('/orders', body, { idempotencyKey })
}

export function listOrders() {
  return get('/orders')
}

export function getOrder(orderNo) {
  return get(`/orders/${encodeURIComponent(orderNo)}`)
}
