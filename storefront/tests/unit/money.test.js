// node --test tests/unit/   (from storefront/; or: node --test storefront/tests/unit/ from the repo root)
import { test } from 'node:test'
import assert from 'node:assert/strict'

import { formatFen, formatFenPlain, formatFenShort, splitFen } from '../../src/utils/money.js'

test('formatFen formats integer fen with two decimals', () => {
  const cases = [
    [0, '¥0.00'],
    [1, '¥0.01'],
    [10, '¥0.10'],
    [99, '¥0.99'],
    [100, '¥1.00'],
    [12345, '¥123.45'],
    [-105, '-¥1.05'],
    [1999999999, '¥19999999.99'],
    [-1, '-¥0.01'],
    [29, '¥0.29'],
    [Number.MAX_SAFE_INTEGER, '¥90071992547409.91'],
  ]
  for (const [fen, expected] of cases) assert.equal(formatFen(fen), expected, `formatFen(${fen})`)
})

test('formatFen never uses float division (classic 0.29 / 0.57 / 1.13 traps)', () => {
  for (let fen = 0; fen <= 100000; fen++) {
    const s = formatFen(fen)
    const [yuan, cents] = s.slice(1).split('.')
    assert.equal(Number(yuan) * 100 + Number(cents), fen, s)
  }
})

test('formatFen rejects what is not a safe integer', () => {
  for (const bad of [null, undefined, 1.5, NaN, Infinity, '12a', {}, 2 ** 53]) {
    assert.equal(formatFen(bad), '¥--', String(bad))
  }
  assert.equal(formatFen('1230'), '¥12.30') // digit strings are accepted
})

test('helpers', () => {
  assert.equal(formatFenPlain(1230), '12.30')
  assert.equal(formatFenPlain(-5), '-0.05')
  assert.deepEqual(splitFen(1200), { sign: '', yuan: '12', cents: '00' })
  assert.deepEqual(splitFen(-105), { sign: '-', yuan: '1', cents: '05' })
  assert.equal(splitFen(undefined), null)
  assert.equal(formatFenShort(500), '5')
  assert.equal(formatFenShort(550), '5.5')
  assert.equal(formatFenShort(505), '5.05')
})
