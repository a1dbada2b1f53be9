// The block registry, the generated mini-program switch and the server's list stay in step.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import gen from '../../tools/gen-block-switch.cjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const registrySource = fs.readFileSync(gen.REGISTRY, 'utf8')
const types = gen.parseRegistry(registrySource).map((e) => e.type)

test('BlockSwitch.vue is generated from registry.js (run `npm run gen:blocks`)', () => {
  assert.equal(fs.readFileSync(gen.OUTPUT, 'utf8'), gen.generate(registrySource))
})

test('every block type the server may send has a component', (t) => {
  const py = path.join(here, '..', '..', '..', 'builder', 'store_config.py')
  if (!fs.existsSync(py)) return t.skip('builder/store_config.py not found')
  const m = /BLOCK_TYPES = \(([\s\S]*?)\)/.exec(fs.readFileSync(py, 'utf8'))
  if (!m) return t.skip('no BLOCK_TYPES in builder/store_config.py')
  const server = [...m[1].matchAll(/"([a-z0-9_]+)"/g)].map((x) => x[1])
  assert.deepEqual([...types].sort(), [...server].sort())
})

test('the registry is a plain type → component table', () => {
  assert.equal(types.length, 16)
  assert.throws(() => gen.parseRegistry(registrySource.replace('banner: BannerBlock,', 'banner: Nope,')))
})
