import { createRequire } from 'node:module'

import { defineConfig } from 'vite'
import uniPlugin from '@dcloudio/vite-plugin-uni'

// the plugin is CommonJS; with "type": "module" its default export arrives as .default
const uni = uniPlugin.default || uniPlugin
const require = createRequire(import.meta.url)
const { resolveVueI18nRuntime } = require('@dcloudio/uni-cli-shared')

// `dev:h5` proxies /api to the Django dev server (make run, port 8000). FZ_DEV_HOST is the store's
// host (default xianguo.localhost:8000): the tenant is chosen by the Host header, as in production.
const target = process.env.FZ_DEV_API || 'http://127.0.0.1:8000'
const host = process.env.FZ_DEV_HOST || 'xianguo.localhost:8000'

// uni-app's production runtime fetches an image from DCloud's CDN 3 s after start (mp-weixin:
// wx.preloadAssets of cdn1.dcloud.net.cn/img/shadow-grey.png; H5: a CSS animation preloading
// cdn.dcloud.net.cn/img/shadow-grey.png). The storefront must not call third parties on every
// shopper's device, and we use no navigation-bar shadow: drop both. Warns if uni changes the code.
const DCLOUD_CDN_CSS = /url\((['"]?)https:\/\/cdn\d*\.dcloud\.net\.cn\/[^)]*\)/g
function noDcloudCdn() {
  let patched = false
  return {
    name: 'fz-no-dcloud-cdn',
    enforce: 'pre',
    transform(code, id) {
      if (!/uni-mp-(weixin|toutiao)[\\/]dist[\\/]uni\.mp\.esm\.js$/.test(id)) return null
      const out = code.replace(/^[ \t]*preloadAsset\(\);[ \t]*$/m, '') // the one call, at start-up
      if (out !== code) patched = true
      return out === code ? null : { code: out, map: null }
    },
    generateBundle: {
      order: 'post', // after uni's css plugin has emitted app.wxss / app.ttss
      handler(_options, bundle) {
        for (const file of Object.values(bundle)) {
          if (file.type === 'asset' && /\.(css|wxss|ttss)$/.test(file.fileName) && typeof file.source === 'string') {
            file.source = file.source.replace(DCLOUD_CDN_CSS, 'none')
          }
        }
        if (process.env.UNI_PLATFORM === 'mp-weixin' && !patched) {
          this.warn('fz-no-dcloud-cdn: preloadAsset() not found in uni.mp.esm.js (uni-app changed?)')
        }
      },
    },
  }
}

export default defineConfig({
  plugins: [uni(), noDcloudCdn()],
  resolve: {
    alias: {
      // The vue-i18n build uni-app uses on mini-programs (messages are never compiled: no
      // new Function, no CSP 'unsafe-eval'); H5 uses it too, so a message renders the same on
      // every platform. {name} placeholders are filled by t() in src/i18n/index.js.
      'vue-i18n': resolveVueI18nRuntime(),
    },
  },
  server: {
    proxy: {
      '/api': { target, changeOrigin: false, headers: { Host: host } },
    },
  },
})
