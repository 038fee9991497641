import { GENERIC_HINTS, responseError, type RegistryHints, type Reply } from '../errors.js'
import type { Logger } from '../logger.js'
import { registryBaseUrl } from '../reference.js'
import { redactUrl } from '../redact.js'
import { discardBody, readBody } from '../response-body.js'
import type { Challenge } from './challenge.js'
import { parseChallenges } from './challenge.js'
import { checkRealm, checkRealmUrl, RealmError } from './realm.js'
import type { Send, SendRequest } from './send.js'

export { checkRealm, RealmError } from './realm.js'

export interface Credentials {
  username: string
  password: string
}

export interface AuthOptions {
  registry: string
  credentials?: Credentials
  // what the whole operation needs, e.g. ["repository:o/n:pull,push"]: asked in one token exchange
  scopes: string[]
  logger: Logger
  now?: () => number
  hints?: RegistryHints
  // the registry is reached over plain http (see registryBaseUrl)
  plainHttp?: boolean
}

// A token response is small JSON; anything bigger is not a token service.
const TOKEN_BODY_LIMIT = 1024 * 1024
// The distribution token spec: a token without expires_in lives 60 s.
const DEFAULT_TOKEN_SECONDS = 60
// Refresh a little early so a token does not expire between being picked and being checked.
const EXPIRY_MARGIN_MS = 5_000

interface Token {
  value: string
  expiresAt: number
}

export class AuthError extends Error {
  readonly retryable = false
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AuthError'
  }
}

// Registry auth as docker and go-containerregistry do it: send anonymously until a 401 says how to
// authenticate, then answer that challenge. For Bearer, one token per set of scopes, shared by all
// requests (concurrent ones included) until it expires or the registry refuses it.
export function withAuth(inner: Send, o: AuthOptions): Send {
  const origin = new URL(registryBaseUrl(o.registry, { plainHttp: o.plainHttp })).origin
  const now = o.now ?? Date.now
  let challenge: Challenge | undefined
  const tokens = new Map<string, Promise<Token>>()

  // The Authorization value for these scopes: the cached token unless it has expired or is the one
  // the registry just refused (`refused`), in which case one exchange replaces it for everyone.
  const authorization = async (scopes: string[], refused?: string): Promise<string | undefined> => {
    if (!challenge) return undefined
    if (challenge.scheme === 'basic') return o.credentials ? basic(o.credentials) : undefined
    const key = scopes.join(' ')
    const cached = tokens.get(key)
    if (cached) {
      const token = await cached.catch(() => undefined)
      if (token && token.expiresAt > now() && `Bearer ${token.value}` !== refused)
        return `Bearer ${token.value}`
      // another request may have replaced it while we waited
      if (tokens.get(key) !== cached) return authorization(scopes, refused)
    }
    const pending = fetchToken(inner, o, challenge, scopes, now)
    tokens.set(key, pending)
    // a failed exchange is not cached: the next request asks again
    pending.catch(() => tokens.get(key) === pending && tokens.delete(key))
    return `Bearer ${(await pending).value}`
  }

  return async (req) => {
    if (new URL(req.url).origin !== origin) return inner(req)
    const scopes = mergeScopes(o.scopes, req.scopes ?? [])
    const send = async (auth: string | undefined): Promise<Reply> => {
      const headers = { ...req.headers }
      if (auth) headers.authorization = auth
      return inner({ ...req, headers })
    }
    const sent = await authorization(scopes)
    const res = await send(sent)
    if (res.status !== 401) return res
    // A redirect target (a storage host) is not the registry: its challenge would have us send the
    // credentials to a realm it names and its token to the registry. Its 401 is the answer.
    if (new URL(res.request?.url ?? req.url).origin !== origin) return res
    const header = res.headers.get('www-authenticate')
    const offered = header ? parseChallenges(header) : []
    const next = offered.find((c) => c.scheme === 'bearer') ?? offered.find((c) => c.scheme === 'basic')
    if (!next || (next.scheme === 'basic' && (!o.credentials || sent !== undefined))) return res
    // One replay per request: a 401 after it is the registry's answer, reported by the caller.
    challenge = next
    const wanted =
      next.scheme === 'bearer' ? mergeScopes(scopes, (next.params.scope ?? '').split(' ')) : scopes
    await discardBody(res)
    return send(await authorization(wanted, sent))
  }
}

async function fetchToken(
  send: Send,
  o: AuthOptions,
  challenge: Challenge,
  scopes: string[],
  now: () => number,
): Promise<Token> {
  const realm = checkRealm(challenge.params.realm, o.registry, o.plainHttp)
  if (challenge.params.service) realm.searchParams.set('service', challenge.params.service)
  for (const scope of scopes) realm.searchParams.append('scope', scope)
  const headers: Record<string, string> = { accept: 'application/json' }
  if (o.credentials) headers.authorization = basic(o.credentials)
  o.logger.debug(
    `token exchange at ${redactUrl(realm)} (${o.credentials ? 'with credentials' : 'anonymous'})`,
  )
  // every hop of the token request is a realm too, on the realm's own scheme
  const tokenRequest: SendRequest = {
    method: 'GET',
    url: realm.toString(),
    headers,
    checkRedirect: (target) => {
      if (target.protocol !== realm.protocol)
        throw new RealmError(
          `refusing a redirect of the token request from ${realm.protocol} to ${redactUrl(target)}`,
        )
      checkRealmUrl(target, o.registry, o.plainHttp)
    },
  }
  const res = await send(tokenRequest)
  if (res.status !== 200) {
    const pushing = scopes.some((s) => /:(.*,)?(push|\*)(,.*)?$/.test(s))
    let hint: string | undefined
    if (res.status === 401 || res.status === 403) {
      if (pushing) hint = (o.hints ?? GENERIC_HINTS).pushDenied
      else if (o.credentials) hint = 'The token service refused the username and password'
      else hint = 'The registry needs credentials for this repository'
    }
    throw await responseError(res, { hint })
  }
  const body = (await readBody(res, TOKEN_BODY_LIMIT, { what: 'the token response' })).toString('utf8')
  let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown }
  try {
    parsed = JSON.parse(body) as typeof parsed
  } catch (error) {
    throw new AuthError(`the token service at ${redactUrl(realm)} answered with something other than JSON`, {
      cause: error,
    })
  }
  const value = typeof parsed.token === 'string' ? parsed.token : parsed.access_token
  if (typeof value !== 'string' || value === '') {
    throw new AuthError(`the token service at ${redactUrl(realm)} answered without a token`)
  }
  const seconds = typeof parsed.expires_in === 'number' ? parsed.expires_in : DEFAULT_TOKEN_SECONDS
  return { value, expiresAt: now() + seconds * 1000 - EXPIRY_MARGIN_MS }
}

// Adds scopes, folding actions on the same resource together ("repository:a:pull" and
// "repository:a:push" become "repository:a:pull,push"), in a stable order so tokens cache by set.
export function mergeScopes(...lists: string[][]): string[] {
  const actions = new Map<string, Set<string>>()
  for (const scope of lists.flat()) {
    if (!scope) continue
    const cut = scope.lastIndexOf(':')
    const resource = cut > 0 ? scope.slice(0, cut) : scope
    const set = actions.get(resource) ?? new Set<string>()
    if (cut > 0) for (const a of scope.slice(cut + 1).split(',')) if (a) set.add(a)
    actions.set(resource, set)
  }
  return [...actions]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([resource, set]) => (set.size > 0 ? `${resource}:${[...set].sort().join(',')}` : resource))
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`
}
