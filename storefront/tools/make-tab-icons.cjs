#!/usr/bin/env node
// Draws the tabBar icons (81×81 RGBA PNGs, normal grey and selected red) with Node built-ins only:
//   node tools/make-tab-icons.cjs        → src/static/tab/{home,category,cart,me}{,-active}.png
// Shapes are defined as "is this point inside?" functions and sampled 4×4 per pixel (anti-aliased).
'use strict'
const fs = require('fs')
const path = require('path')
const zlib = require('zlib')

const SIZE = 81
const SS = 4 // supersampling per axis
const COLORS = { normal: [0x8a, 0x8a, 0x8a], active: [0xe4, 0x39, 0x3c] }
const OUT = path.join(__dirname, '..', 'src', 'static', 'tab')

const inRect = (x, y, x0, y0, x1, y1) => x >= x0 && x <= x1 && y >= y0 && y <= y1
const inCircle = (x, y, cx, cy, r) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r
const inRing = (x, y, cx, cy, r, w) => inCircle(x, y, cx, cy, r) && !inCircle(x, y, cx, cy, r - w)
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (!inRect(x, y, x0, y0, x1, y1)) return false
  const cx = Math.min(Math.max(x, x0 + r), x1 - r)
  const cy = Math.min(Math.max(y, y0 + r), y1 - r)
  return inCircle(x, y, cx, cy, r)
}
function inTriangle(x, y, [ax, ay], [bx, by], [cx, cy]) {
  const s = (px, py, qx, qy, rx, ry) => (px - rx) * (qy - ry) - (qx - rx) * (py - ry)
  const d1 = s(x, y, ax, ay, bx, by)
  const d2 = s(x, y, bx, by, cx, cy)
  const d3 = s(x, y, cx, cy, ax, ay)
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))
}
function nearSegment(x, y, ax, ay, bx, by, w) {
  const dx = bx - ax, dy = by - ay
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
  return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= (w / 2) ** 2
}

const SHAPES = {
  // a house: roof, body, a door cut out
  home: (x, y) =>
    (inTriangle(x, y, [40.5, 10], [8, 40], [73, 40]) || inRect(x, y, 17, 36, 64, 70)) &&
    !inRoundRect(x, y, 33, 48, 48, 71, 3),
  // four rounded tiles
  category: (x, y) =>
    inRoundRect(x, y, 12, 12, 37, 37, 6) ||
    inRoundRect(x, y, 44, 12, 69, 37, 6) ||
    inRoundRect(x, y, 12, 44, 37, 69, 6) ||
    inRing(x, y, 56.5, 56.5, 13, 5),
  // a trolley: handle, basket, two wheels
  cart: (x, y) =>
    nearSegment(x, y, 7, 16, 17, 16, 6) ||
    nearSegment(x, y, 17, 16, 25, 52, 6) ||
    inTriangle(x, y, [20, 24], [72, 24], [66, 48]) ||
    inTriangle(x, y, [20, 24], [66, 48], [26, 48]) ||
    nearSegment(x, y, 25, 54, 64, 54, 5) ||
    inCircle(x, y, 30, 65, 6) ||
    inCircle(x, y, 60, 65, 6),
  // a person: head and shoulders
  me: (x, y) => inCircle(x, y, 40.5, 26, 14) || (((x - 40.5) / 28) ** 2 + ((y - 72) / 28) ** 2 <= 1 && y <= 70),
}

function crc32(buf) {
  let c, crc = 0xffffffff
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    crc = (crc >>> 8) ^ c
  }
  return (crc ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

function png(shape, [r, g, b]) {
  const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE)
  for (let y = 0; y < SIZE; y++) {
    const row = y * (SIZE * 4 + 1)
    raw[row] = 0 // filter: none
    for (let x = 0; x < SIZE; x++) {
      let hits = 0
      for (let sy = 0; sy < SS; sy++)
        for (let sx = 0; sx < SS; sx++) if (shape(x + (sx + 0.5) / SS, y + (sy + 0.5) / SS)) hits++
      const o = row + 1 + x * 4
      raw[o] = r
      raw[o + 1] = g
      raw[o + 2] = b
      raw[o + 3] = Math.round((255 * hits) / (SS * SS))
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(SIZE, 0)
  ihdr.writeUInt32BE(SIZE, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

fs.mkdirSync(OUT, { recursive: true })
for (const [name, shape] of Object.entries(SHAPES)) {
  fs.writeFileSync(path.join(OUT, `${name}.png`), png(shape, COLORS.normal))
  fs.writeFileSync(path.join(OUT, `${name}-active.png`), png(shape, COLORS.active))
}
console.log(`tab icons written to ${path.relative(process.cwd(), OUT) || '.'}`)
