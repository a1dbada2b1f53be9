// The promoter share link: ?pid=<promoter id> on any entry page (H5 URL, mini-program path,
// or a mini-program code's scene "pid=12") is kept in storage key fz_pid for attribution.
// Binding the shopper to the promoter (POST /distribution/touches) is a later phase.
import { KEYS, setItem } from './storage.js'

const PID = /^[0-9]{1,18}$/

function fromScene(scene) {
  if (!scene) return ''
  let decoded = String(scene)
  try {
    decoded = decodeURIComponent(decoded)
  } catch (e) {
    /* keep it raw */
  }
  const m = /(?:^|[&?])pid=([0-9]{1,18})(?:&|$)/.exec(decoded)
  return m ? m[1] : ''
}

/** Reads pid (or scene=pid%3D12) from a page/launch query; stores it. Returns the pid or "". */
export function capturePromoter(query) {
  if (!query || typeof query !== 'object') return ''
  const raw = String(query.pid ?? '').trim()
  const pid = PID.test(raw) ? raw : fromScene(query.scene)
  if (pid) setItem(KEYS.pid, pid)
  return pid
}

/** H5 share links may carry ?pid= before the hash (https://shop.example.com/h5/?pid=12#/…). */
export function capturePromoterFromLocation() {
  // #ifdef H5
  try {
    const params = new URLSearchParams(window.location.search)
    if (params.has('pid')) return capturePromoter({ pid: params.get('pid') })
  } catch (e) {
    /* no location */
  }
  // #endif
  return ''
}
