// Query parameters a registry URL carries that say nothing secret; every other value (a signed
// URL's signature, expiry, credential scope, an upload's _state) is replaced before logging.
const SAFE_QUERY_KEYS = new Set(['n', 'last', 'digest', 'mount', 'from', 'scope', 'service'])

export function redactUrl(url: string | URL): string {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return '<unparseable URL>'
  }
  if (u.username || u.password) {
    u.username = 'redacted'
    u.password = ''
  }
  const params = [...u.searchParams]
  if (params.length > 0) {
    u.search = params.map(([k, v]) => `${k}=${SAFE_QUERY_KEYS.has(k) ? v : 'REDACTED'}`).join('&')
  }
  return u.toString()
}
