import { ConnectionError, RegistryError, retryAfter } from '../errors.js'
import type { Logger } from '../logger.js'
import { redactUrl } from '../redact.js'
import { discardBody } from '../response-body.js'
import type { Send } from './send.js'

export interface RetryOptions {
  // tries in all, the first included
  attempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  // injectable so tests do not wait
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export interface RetryPolicy {
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  sleep: (ms: number) => Promise<void>
  random: () => number
}

// Five tries over roughly 0.5 + 1 + 2 + 4 s rides out a registry restart or a flaky proxy without
// hiding a real outage for long; Retry-After is honoured up to a minute.
const DEFAULTS = { attempts: 5, baseDelayMs: 500, maxDelayMs: 8000 }
const MAX_RETRY_AFTER_MS = 60_000

export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  return {
    attempts: Math.max(1, o.attempts ?? DEFAULTS.attempts),
    baseDelayMs: o.baseDelayMs ?? DEFAULTS.baseDelayMs,
    maxDelayMs: o.maxDelayMs ?? DEFAULTS.maxDelayMs,
    sleep: o.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: o.random ?? Math.random,
  }
}

// Exponential, with jitter over the upper half so that parallel clients spread out but a retry
// never comes back at once. `retry` counts from 1.
export function backoffDelay(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1))
  return Math.round(ceiling * (0.5 + policy.random() / 2))
}

// 408 and 429 are the server asking us to come back; 5xx is the server failing, except the two
// that say it never will (501 Not Implemented, 505 HTTP Version Not Supported).
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505)
}

// Socket and HTTP-client error codes that say the network failed this once: another try may
// get through. EAI_AGAIN is the resolver's own "try again" (a DNS server that did not answer).
// Any other code, and an error with none, is not transient: what counts is the code, never an
// error's message (go-containerregistry's Temporary() decides the same way).
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
])

// Codes that no retry will change, each with what to tell the user. ENOTFOUND: the name has no
// address (a typo, or a host only another network knows), unlike EAI_AGAIN above.
const NAME_UNRESOLVED = new Set(['ENOTFOUND', 'EAI_NONAME', 'EAI_FAIL'])
// What OpenSSL says when the answer to its hello is not TLS at all: a server speaking plain http.
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG'])
// OpenSSL's verification results as Node names them, and Node's own host name check.
const TLS_CODE =
  /^(CERT_|UNABLE_TO_|ERR_TLS_|ERR_SSL_)|^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE)$/

// Network failures (fetch's "fetch failed" TypeError around a socket error) are worth another try
// when a code in the chain says so; an error anywhere in the chain that says `retryable: false` (a
// source file that cannot be read, a digest mismatch, a refused certificate) is not.
export function isRetryableError(error: unknown): boolean {
  let transient = false
  for (let e: unknown = error, depth = 0; e && depth < 8; depth++) {
    if (typeof e !== 'object') break
    const { code, retryable, cause, name } = e as {
      code?: unknown
      retryable?: unknown
      cause?: unknown
      name?: unknown
    }
    if (retryable === false || name === 'AbortError') return false
    if (typeof code === 'string' && (NAME_UNRESOLVED.has(code) || TLS_CODE.test(code))) return false
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) transient = true
    e = cause
  }
  return transient
}

/**
 * A ConnectionError naming the host and the cause for a request that failed without an answer, or
 * the error itself when it carries no socket or TLS code (a bug, an aborted request, a source file).
 */
export function connectionFailure(error: unknown, req: { method: string; url: string }, tries = 1): unknown {
  if (error instanceof ConnectionError) return error
  let found: { code: string; message: string } | undefined
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 8; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof code === 'string') found = { code, message: typeof message === 'string' ? message : '' }
    e = cause
  }
  if (!found) return error
  const host = new URL(req.url).host
  const { code, message } = found
  const permanent = NAME_UNRESOLVED.has(code) || TLS_CODE.test(code)
  let reason: string
  if (NAME_UNRESOLVED.has(code)) reason = `the name ${new URL(req.url).hostname} does not resolve (${code})`
  else if (NOT_TLS.has(code)) reason = `it answered without TLS, as a plain http server does (${code})`
  else if (TLS_CODE.test(code))
    reason =
      `its TLS certificate was refused: ${message} (${code}). A registry with a private CA needs ` +
      'that CA in NODE_EXTRA_CA_CERTS'
  else reason = `${message || code}${message.includes(code) ? '' : ` (${code})`}`
  if (!permanent && tries > 1) reason += `, after ${tries} tries`
  return new ConnectionError({
    method: req.method,
    url: req.url,
    host,
    code,
    reason,
    permanent,
    notTls: NOT_TLS.has(code),
    cause: error,
  })
}

// For loops that retry a larger unit (a whole upload, a resumed download): a refused request
// counts as transient by its status, anything else by the network error test above.
export function isRetryableFailure(error: unknown): boolean {
  return error instanceof RegistryError ? isRetryableStatus(error.status) : isRetryableError(error)
}

export function retryAfterMs(res: Response, now = Date.now()): number | undefined {
  return retryAfter(res.headers.get('retry-after'), now)
}

// Per-request retries. A request marked `retry: false` passes straight through: its caller retries
// a larger unit (a whole blob upload) and retrying here too would multiply the attempts.
export function withRetry(inner: Send, o: RetryOptions & { logger: Logger }): Send {
  const policy = retryPolicy(o)
  return async (req) => {
    if (req.retry === false)
      return inner(req).catch((error: unknown) => {
        throw connectionFailure(error, req)
      })
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= policy.attempts
      let res: Response
      try {
        res = await inner(req)
      } catch (error) {
        if (last || req.signal?.aborted || !isRetryableError(error))
          throw connectionFailure(error, req, attempt)
        const delay = backoffDelay(policy, attempt)
        o.logger.debug(
          `${req.method} ${redactUrl(req.url)} failed (${describe(error)}); retry ${attempt} in ${delay} ms`,
        )
        await policy.sleep(delay)
        continue
      }
      if (last || !isRetryableStatus(res.status)) return res
      const delay = backoffDelay(
        policy,
        attempt,
        res.status === 429 || res.status === 503 ? retryAfterMs(res) : undefined,
      )
      o.logger.debug(
        `${req.method} ${redactUrl(req.url)} answered ${res.status}; retry ${attempt} in ${delay} ms`,
      )
      await discardBody(res)
      await policy.sleep(delay)
    }
  }
}

// An error and its causes on one line: "fetch failed: other side closed [UND_ERR_SOCKET]". Duck
// typed, since fetch's errors may come from another realm than our Error.
export function describe(error: unknown): string {
  const parts: string[] = []
  for (let e: unknown = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const { message, code, cause } = e as { message?: unknown; code?: unknown; cause?: unknown }
    if (typeof message === 'string') parts.push(typeof code === 'string' ? `${message} [${code}]` : message)
    e = cause
  }
  return parts.join(': ') || String(error)
}

// The wait before retrying a larger unit after `error`: the registry's Retry-After if it gave one.
export function delayAfter(policy: RetryPolicy, retry: number, error: unknown): number {
  const asked =
    error instanceof RegistryError && isRetryableStatus(error.status) ? error.retryAfterMs : undefined
  return backoffDelay(policy, retry, asked)
}
