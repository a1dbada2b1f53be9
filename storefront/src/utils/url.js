import { apiContext } from '../api/context.js'

/**
 * An image/video address usable on this platform. Absolute URLs pass through; a site-relative
 * path ("/media/…") is same-origin on H5 and is joined to the API host's origin on mini-programs.
 * Empty → "" (callers show a placeholder).
 */
export function assetUrl(src) {
  if (!src || typeof src !== 'string') return ''
  if (/^(https?:)?\/\//i.test(src) || src.startsWith('data:')) return src.startsWith('//') ? `https:${src}` : src
  if (src.startsWith('/static/')) return src // packaged with the app
  // #ifdef H5
  return src
  // #endif
  // #ifndef H5
  const m = /^(https?:\/\/[^/]+)/i.exec(apiContext().base || '')
  return m ? `${m[1]}${src.startsWith('/') ? '' : '/'}${src}` : src
  // #endif
}
