import { isIP } from 'node:net'
import { isLoopbackHost, registryBaseUrl } from '../reference.js'
import { redactUrl } from '../redact.js'

export class RealmError extends Error {
  readonly retryable = false
  constructor(message: string) {
    super(message)
    this.name = 'RealmError'
  }
}

/**
 * The token realm a registry named, checked as go-containerregistry's validateRealmURL does
 * before any credentials go there: https only (http only when the registry itself is a loopback
 * http one and so is the realm), and no IP literal the registry could use to point us at this
 * machine's or this network's own services (loopback, link-local: cloud metadata at
 * 169.254.169.254; private ranges). Unlike go-containerregistry, which allows only the registry's
 * own host:port there, a realm on the registry's own host (any port) is allowed, and so is a private
 * address when the registry is itself on one (a LAN registry with its token service beside it).
 * Each redirect of the token request is checked the same way, and may not change the scheme.
 */
export function checkRealm(realm: string | undefined, registry: string, plainHttp = false): URL {
  if (!realm) throw new RealmError(`${registry} asked for a bearer token but named no realm`)
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw new RealmError(`${registry} named a token realm that is not a URL: ${JSON.stringify(realm)}`)
  }
  checkRealmUrl(url, registry, plainHttp)
  return url
}

// With plain-http chosen for a registry, an http realm is allowed too (go-containerregistry allows
// one for an insecure registry: its token service sits on the same trusted network).
export function checkRealmUrl(url: URL, registry: string, plainHttp = false): void {
  const registryUrl = new URL(registryBaseUrl(registry, { plainHttp }))
  const localRegistry = registryUrl.protocol === 'http:' && isLoopbackHost(registryUrl.hostname)
  const refuse = (why: string) => {
    throw new RealmError(`refusing token realm ${redactUrl(url)} named by ${registry}: ${why}`)
  }
  if (url.protocol !== 'https:') {
    const httpAllowed = (localRegistry && isLoopbackHost(url.hostname)) || plainHttp
    if (!(url.protocol === 'http:' && httpAllowed)) refuse('credentials go only to an https realm')
  }
  if (url.hostname === registryUrl.hostname) return
  const kind = addressKind(url.hostname)
  if (kind === 'loopback' && !isLoopbackHost(registryUrl.hostname)) refuse('a loopback address')
  if (kind === 'link-local') refuse('a link-local address (where cloud metadata services answer)')
  if (kind === 'private' && !['private', 'loopback'].includes(addressKind(registryUrl.hostname)))
    refuse('a private address, for a registry that is not on one')
}

type AddressKind = 'loopback' | 'link-local' | 'private' | 'public' | 'name'

// Only IP literals are judged: a name's addresses are the resolver's (DNS rebinding is out of
// scope here, as in go-containerregistry).
function addressKind(hostname: string): AddressKind {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (host === 'localhost') return 'loopback'
  const version = isIP(host)
  if (version === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number)
    if (a === 127) return 'loopback'
    if (a === 0 || (a === 169 && b === 254)) return 'link-local'
    if (
      a === 10 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    )
      return 'private'
    return 'public'
  }
  if (version === 6) {
    if (host === '::1') return 'loopback'
    if (host === '::' || /^fe[89ab]/.test(host)) return 'link-local'
    if (/^f[cd]/.test(host)) return 'private'
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)
    return mapped ? addressKind(mapped[1] as string) : 'public'
  }
  return 'name'
}
