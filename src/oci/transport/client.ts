import { withRequest, type RegistryHints } from '../errors.js'
import type { Logger } from '../logger.js'
import { redactUrl } from '../redact.js'
import type { Credentials } from './auth.js'
import { withAuth } from './auth.js'
import { withRedirects } from './redirect.js'
import type { RetryOptions } from './retry.js'
import { withRetry } from './retry.js'
import type { HttpOptions, Send } from './send.js'
import { createExchange } from './send.js'

export interface TransportOptions {
  registry: string
  credentials?: Credentials
  scopes: string[]
  logger: Logger
  retry?: RetryOptions
  http?: HttpOptions
  plainHttp?: boolean
  // replaces the bottom layer (tests that script the registry)
  exchange?: Send
  userAgent?: string
  hints?: RegistryHints
}

// One stack for every request, streamed bodies included. Outside in: auth (sees the final answer of a redirect chain, so a 401 is the registry's),
// redirects (strip credentials per hop), retry (per hop, so a flaky storage host is retried
// without asking the registry again), one log line per exchange, the user agent on everything,
// token requests included.
export function createTransport(o: TransportOptions): Send {
  const exchange = withUserAgent(o.exchange ?? createExchange(o.http), o.userAgent)
  const retried = withRetry(withRequestLog(exchange, o.logger), { ...o.retry, logger: o.logger })
  const redirected = withRedirects(retried, { logger: o.logger })
  const authed = withAuth(redirected, {
    registry: o.registry,
    credentials: o.credentials,
    scopes: o.scopes,
    logger: o.logger,
    hints: o.hints,
    plainHttp: o.plainHttp,
  })
  // A push operation's token covers all its requests: when the registry refuses any of them (a
  // HEAD before the upload included), the fix is the push permission, and errors should say so.
  const pushing = o.scopes.some((scope) => scope.split(':').pop()?.split(',').includes('push'))
  if (!pushing && !o.hints) return authed
  return async (req) => {
    const res = await authed(req)
    const sent = res.request ?? { method: req.method, url: req.url }
    return withRequest(res, {
      ...sent,
      ...(pushing ? { pushing } : {}),
      ...(o.hints ? { hints: o.hints } : {}),
    })
  }
}

// The caller names itself (src/action/ passes the action's name and ref); without a name, requests
// carry the HTTP client's own.
export function withUserAgent(inner: Send, userAgent?: string): Send {
  if (!userAgent) return inner
  return (req) => inner({ ...req, headers: { ...req.headers, 'user-agent': userAgent } })
}

// One debug line per HTTP exchange (never per chunk), with the URL redacted and no headers.
export function withRequestLog(inner: Send, logger: Logger): Send {
  return async (req) => {
    const started = performance.now()
    const url = redactUrl(req.url)
    try {
      const res = await inner(req)
      logger.debug(`${req.method} ${url} -> ${res.status} (${Math.round(performance.now() - started)} ms)`)
      return res
    } catch (error) {
      logger.debug(`${req.method} ${url} -> ${error instanceof Error ? error.message : String(error)}`)
      throw error
    }
  }
}
