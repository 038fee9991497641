import { redactUrl } from './redact.js'
import { readBody } from './response-body.js'

/**
 * What an error built from a response needs to know of the request behind it. The bottom layer
 * records method and URL of the last hop; the stack above adds what only it knows.
 */
export interface RequestFacts {
  method: string
  url: string
  // part of an operation that pushes: a refusal of even its reads means the credentials cannot push
  pushing?: boolean
  // the caller's words for a refusal (see RegistryHints)
  hints?: RegistryHints
}

/** A response that carries the facts of its request, as every Send answers. */
export type Reply = Response & { readonly request?: RequestFacts }

/** The response with `facts` as its request's, replacing any it had. */
export function withRequest(res: Response, facts: RequestFacts): Reply {
  return Object.assign(res, { request: facts })
}

export interface RegistryErrorCode {
  code: string
  message: string
  detail?: unknown
}

// An error body is for people and logs: 64 KiB holds any registry's error JSON.
const ERROR_BODY_LIMIT = 64 * 1024

export class RegistryError extends Error {
  readonly method: string
  readonly url: string
  readonly status: number
  readonly codes: RegistryErrorCode[]
  readonly hint?: string
  // how long the registry asked us to wait (Retry-After), for loops that retry a larger unit
  readonly retryAfterMs?: number

  constructor(o: {
    method: string
    url: string
    status: number
    statusText?: string
    codes?: RegistryErrorCode[]
    body?: string
    hint?: string
    retryAfterMs?: number
    cause?: unknown
    pushing?: boolean
    hints?: RegistryHints
  }) {
    const url = redactUrl(o.url)
    const codes = o.codes ?? []
    const hint = o.hint ?? hintFor(o.method, o.status, codes, o.pushing, o.hints)
    let detail = codes.map((c) => (c.message ? `${c.code}: ${c.message}` : c.code)).join('; ')
    if (!detail && o.body) detail = o.body.length > 200 ? `${o.body.slice(0, 200)}...` : o.body
    const status = `${o.status}${o.statusText ? ` ${o.statusText}` : ''}`
    super(`${o.method} ${url}: ${status}${detail ? `: ${detail}` : ''}${hint ? `. ${hint}` : ''}`, {
      cause: o.cause,
    })
    this.name = 'RegistryError'
    this.method = o.method
    this.url = url
    this.status = o.status
    this.codes = codes
    if (hint) this.hint = hint
    if (o.retryAfterMs !== undefined) this.retryAfterMs = o.retryAfterMs
  }

  hasCode(code: string): boolean {
    return this.codes.some((c) => c.code === code)
  }
}

export class DigestMismatchError extends Error {
  readonly expected: string
  readonly actual: string
  constructor(expected: string, actual: string, what = 'content') {
    super(`${what} does not match its digest: expected ${expected}, got ${actual}`)
    this.name = 'DigestMismatchError'
    this.expected = expected
    this.actual = actual
  }
}

/**
 * A request that got no answer: the socket or TLS error, with the host it was for. `retryable` is
 * false when another try would fail the same way (a name that does not resolve, a refused
 * certificate), so no loop above retries it either.
 */
export class ConnectionError extends Error {
  readonly host: string
  readonly code: string
  readonly retryable?: false
  /** An https request answered in plain http: the caller may know how to opt in to that. */
  readonly notTls: boolean
  constructor(o: {
    method: string
    url: string
    host: string
    code: string
    reason: string
    permanent: boolean
    notTls?: boolean
    cause: unknown
  }) {
    super(`${o.method} ${redactUrl(o.url)}: cannot reach ${o.host}: ${o.reason}`, { cause: o.cause })
    this.name = 'ConnectionError'
    this.host = o.host
    this.code = o.code
    this.notTls = o.notTls ?? false
    if (o.permanent) this.retryable = false
  }
}

// Like go-containerregistry's CheckError: any status not listed becomes one RegistryError, built
// from a capped read of the body so the registry's error codes reach the user.
export async function checkResponse<R extends Reply>(res: R, ...okStatuses: number[]): Promise<R> {
  if (okStatuses.includes(res.status)) return res
  throw await responseError(res)
}

export async function responseError(res: Reply, o: { hint?: string } = {}): Promise<RegistryError> {
  const sent = res.request
  let text = ''
  try {
    text = (await readBody(res, ERROR_BODY_LIMIT, { truncate: true })).toString('utf8').trim()
  } catch {
    // a body that breaks mid-read still leaves the status to report
  }
  const codes = parseErrorCodes(text)
  return new RegistryError({
    method: sent?.method ?? 'GET',
    url: sent?.url ?? res.url,
    status: res.status,
    statusText: res.statusText,
    codes,
    body: codes.length === 0 && !text.startsWith('<') ? text : undefined,
    hint: o.hint,
    retryAfterMs: retryAfter(res.headers.get('retry-after')),
    pushing: sent?.pushing,
    hints: sent?.hints,
  })
}

// Retry-After is seconds or an HTTP date.
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

// The distribution spec's error body: {"errors":[{"code","message","detail"}]}
export function parseErrorCodes(text: string): RegistryErrorCode[] {
  if (!text.startsWith('{')) return []
  try {
    const value = JSON.parse(text) as { errors?: unknown }
    if (!Array.isArray(value.errors)) return []
    return value.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => {
        const code: RegistryErrorCode = {
          code: typeof e.code === 'string' ? e.code : 'UNKNOWN',
          message: typeof e.message === 'string' ? e.message : '',
        }
        if (e.detail !== undefined) code.detail = e.detail
        return code
      })
  } catch {
    return []
  }
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * What to tell the user when a registry refuses the credentials. The library's own words are
 * generic; a caller that knows the registry's policies (src/action/ for GitHub's registry: the
 * job's permissions, the package's settings) passes its own through RepositoryOptions.hints.
 */
export interface RegistryHints {
  pushDenied: string
  pullDenied: string
  /** A DELETE of a manifest refused as not supported (405 or UNSUPPORTED). */
  deleteUnsupported?: string
  /** A DELETE of a manifest refused for the credentials. */
  deleteDenied?: string
}

export const GENERIC_HINTS: Required<RegistryHints> = {
  pushDenied: 'Check that the credentials may push to this repository',
  pullDenied: 'Check the credentials: the registry refused them or needs some',
  deleteUnsupported:
    'The registry does not allow deleting manifests (CNCF Distribution: set storage.delete.enabled: true)',
  deleteDenied: 'Check that the credentials may delete from this repository',
}

// What a user can do about the most common refusals.
export function hintFor(
  method: string,
  status: number,
  codes: RegistryErrorCode[],
  pushing = false,
  hints: RegistryHints = GENERIC_HINTS,
): string | undefined {
  const denied =
    status === 401 || status === 403 || codes.some((c) => c.code === 'DENIED' || c.code === 'UNAUTHORIZED')
  if (denied && (pushing || WRITE_METHODS.has(method))) return hints.pushDenied
  if (denied) return hints.pullDenied
  if (status === 429) return 'The registry is rate limiting: retry later'
  return undefined
}
