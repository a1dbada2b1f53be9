// The store theme ({ primary, cta, background, text }) as CSS variables on a page's root view:
//   <view class="page" :style="themeStyle(config.theme)">
// Components read var(--fz-cta, #E4393C) etc. (defaults in src/uni.scss). Only plain colours are
// accepted, so a config can never inject other CSS.
export const DEFAULT_THEME = { primary: '#E4393C', cta: '#E4393C', background: '#F7F7F7', text: '#333333' }

const COLOUR = /^(#[0-9a-f]{3}|#[0-9a-f]{6}|#[0-9a-f]{8}|rgba?\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*(,\s*(0|1|0?\.\d+)\s*)?\))$/i

export function safeColour(value, fallback) {
  return typeof value === 'string' && COLOUR.test(value.trim()) ? value.trim() : fallback
}

export function resolveTheme(theme) {
  const th = theme && typeof theme === 'object' ? theme : {}
  const out = {}
  for (const key of Object.keys(DEFAULT_THEME)) out[key] = safeColour(th[key], DEFAULT_THEME[key])
  return out
}

export function themeStyle(theme) {
  const th = resolveTheme(theme)
  return `--fz-primary:${th.primary};--fz-cta:${th.cta};--fz-bg:${th.background};--fz-text:${th.text};background-color:${th.background};color:${th.text};`
}
