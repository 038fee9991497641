import { withRequest } from '../errors.js'
import type { Logger } from '../logger.js'
import { isLoopbackHost } from '../reference.js'
import { redactUrl } from '../redact.js'
import { discardBody } from '../response-body.js'
import type { Send, SendRequest } from './send.js'

// Browsers and curl stop at 20 and 50; a registry needs one hop (to its storage), so 10 is plenty.
const MAX_REDIRECTS = 10
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
// Headers that carry who we are: they must not follow us to another origin (ghcr.io answers blob
// GETs with a 307 to a signed URL on a storage host that must never see the registry token).
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization']

export class RedirectError extends Error {
  readonly retryable = false
  constructor(message: string) {
    super(message)
    this.name = 'RedirectError'
  }
}

// Follows redirects itself (the base layer fetches with redirect: 'manual') so that what crosses
// origins is decided here, visibly and tested, not by a fetch implementation's defaults.
export function withRedirects(inner: Send, o: { logger: Logger; maxRedirects?: number }): Send {
  const max = o.maxRedirects ?? MAX_REDIRECTS
  return async (first) => {
    let req = first
    for (let hop = 0; ; hop++) {
      const res = await inner(req)
      const location = res.headers.get('location')
      if (!REDIRECT_STATUSES.has(res.status) || !location) {
        // the URL that answered, so layers above (auth) tell the registry's answer from a redirect target's
        return hop > 0 ? withRequest(res, { method: req.method, ...res.request, url: req.url }) : res
      }
      await discardBody(res)
      if (hop >= max)
        throw new RedirectError(`${first.method} ${redactUrl(first.url)}: more than ${max} redirects`)
      const target = new URL(location, req.url)
      first.checkRedirect?.(target)
      const next = nextRequest(req, res.status, target)
      o.logger.debug(
        `${req.method} ${redactUrl(req.url)} redirected (${res.status}) to ${redactUrl(next.url)}`,
      )
      req = next
    }
  }
}

export function nextRequest(req: SendRequest, status: number, target: URL): SendRequest {
  const from = new URL(req.url)
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new RedirectError(`refusing a redirect to ${target.protocol} URL ${redactUrl(target)}`)
  }
  if (from.protocol === 'https:' && target.protocol === 'http:' && !isLoopbackHost(target.hostname)) {
    throw new RedirectError(`refusing a redirect from https to plain http: ${redactUrl(target)}`)
  }
  const headers = { ...req.headers }
  if (target.origin !== from.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name]
  // Fetch's rules: 303 turns anything but HEAD into a GET, and so do 301/302 after a POST.
  const toGet =
    (status === 303 && req.method !== 'HEAD') || ((status === 301 || status === 302) && req.method === 'POST')
  if (toGet) {
    delete headers['content-type']
    delete headers['content-length']
    return { ...req, method: 'GET', url: target.toString(), headers, body: undefined }
  }
  return { ...req, url: target.toString(), headers }
}
