// vue-i18n 9.1.9 with our own t(): one message layout for every platform.
//
// Files: src/i18n/<locale>/<area>.js (common, shop, promoter, …), merged in <locale>/index.js;
// keys are "<area>.<group>.<name>". Add an area = add the file in BOTH locales + one import line.
// Placeholders are {name} and are filled here, not by vue-i18n: on mini-programs uni-app aliases
// vue-i18n to a runtime build that never compiles messages (no eval there), and vite.config.js
// uses that same build on H5, so a message renders identically everywhere. No plural (|) or
// linked (@:) syntax.
//
// pages.json / tabBar titles use uni-app's own %key% mechanism: src/locale/<locale>.json.
import { createI18n } from 'vue-i18n'

import en from './en/index.js'
import zhHans from './zh-Hans/index.js'

export const DEFAULT_LOCALE = 'zh-Hans'
export const LOCALES = ['zh-Hans', 'en']

/** uni.getLocale() / a browser language → one of LOCALES ("zh-CN", "zh-Hant", "ja" → zh-Hans). */
export function pickLocale(raw) {
  const s = String(raw || '').toLowerCase()
  if (s === 'en' || s.startsWith('en-') || s.startsWith('en_')) return 'en'
  return DEFAULT_LOCALE
}

function systemLocale() {
  try {
    return uni.getLocale()
  } catch (e) {
    return DEFAULT_LOCALE
  }
}

export const i18n = createI18n({
  legacy: false,
  globalInjection: false, // $t is ours (below), with {name} interpolation
  locale: pickLocale(systemLocale()),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-Hans': zhHans, en },
})

function interpolate(message, params) {
  return message.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined || params[name] === null ? whole : String(params[name]),
  )
}

/** t('shop.product.sold', { n: 12 }) → "已售 12". Reactive: re-renders when the locale changes. */
export function t(key, params) {
  const message = i18n.global.t(key)
  return params ? interpolate(String(message), params) : message
}

export function currentLocale() {
  return i18n.global.locale.value
}

export function setLocale(locale) {
  i18n.global.locale.value = pickLocale(locale)
}

/** The Accept-Language the API understands (Django: zh-hans / en). */
export function apiLanguage() {
  return currentLocale() === 'en' ? 'en' : 'zh-hans'
}

export default {
  install(app) {
    app.use(i18n)
    app.config.globalProperties.$t = t
    if (typeof uni.onLocaleChange === 'function') {
      uni.onLocaleChange(({ locale }) => setLocale(locale))
    }
  },
}
