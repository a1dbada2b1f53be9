// Money is integer fen everywhere (the API sends *_fen integers). Formatting uses integer
// arithmetic only: no float division, no toFixed, so ¥0.29 never shows as ¥0.28.
// Plain ES module with no uni/vue imports: node's test runner loads it directly (tests/unit/).

const INVALID = '¥--'

function parts(fen) {
  if (typeof fen === 'string' && /^-?\d{1,16}$/.test(fen)) fen = Number(fen)
  if (!Number.isSafeInteger(fen)) return null
  const negative = fen < 0
  const abs = negative ? -fen : fen
  const cents = abs % 100
  const yuan = (abs - cents) / 100 // exact: abs - cents is a multiple of 100
  return { negative, yuan: String(yuan), cents: cents < 10 ? `0${cents}` : String(cents) }
}

/** 1230 → "¥12.30", -105 → "-¥1.05", 0 → "¥0.00"; anything but a safe integer → "¥--". */
export function formatFen(fen) {
  const p = parts(fen)
  if (!p) return INVALID
  return `${p.negative ? '-' : ''}¥${p.yuan}.${p.cents}`
}

/** 1230 → "12.30" (no currency sign), for "¥" drawn separately. */
export function formatFenPlain(fen) {
  const p = parts(fen)
  if (!p) return '--'
  return `${p.negative ? '-' : ''}${p.yuan}.${p.cents}`
}

/**
 * The pieces of a shop price tag: ¥ small, yuan big, cents small.
 * 1230 → { sign: "", yuan: "12", cents: "30" }; 1200 → cents "00".
 * Returns null for a missing/invalid amount.
 */
export function splitFen(fen) {
  const p = parts(fen)
  if (!p) return null
  return { sign: p.negative ? '-' : '', yuan: p.yuan, cents: p.cents }
}

/** Whole yuan when there are no cents (coupon face values: 500 → "5", 550 → "5.5"). */
export function formatFenShort(fen) {
  const p = parts(fen)
  if (!p) return '--'
  let tail = ''
  if (p.cents !== '00') tail = p.cents.endsWith('0') ? `.${p.cents[0]}` : `.${p.cents}`
  return `${p.negative ? '-' : ''}${p.yuan}${tail}`
}
