import { Readable } from 'node:stream'
import { Agent, type Dispatcher, ProxyAgent } from 'undici'
import { withRequest, type Reply } from '../errors.js'
import { redactUrl } from '../redact.js'
import { watchUploadStall } from './stall.js'

export interface SendRequest {
  method: string
  url: string
  // lower-case names: layers add and remove headers by name
  headers: Record<string, string>
  // A factory, not a stream: a retry, a redirect or an auth replay calls it again for a fresh body.
  body?: () => Readable | Buffer
  // scopes this request needs beyond the operation's own (a mount reads the source repository)
  scopes?: string[]
  // false while an outer loop retries the whole operation (a blob upload), so retries do not multiply
  retry?: boolean
  // a check every redirect target of this request must pass (a token request: each hop is a realm)
  checkRedirect?: (target: URL) => void
  // the caller no longer wants the answer: the request (or its body, once answered) is dropped
  signal?: AbortSignal
}

// Every answer carries the facts of its request (errors.ts), so an error built from it names it.
export type Send = (req: SendRequest) => Promise<Reply>

export interface Timeouts {
  // TCP and TLS handshake (through the proxy's CONNECT when there is one)
  connectMs: number
  // from the request's last byte to the response's headers
  headersMs: number
  // no byte moved, either way, while a body is in flight
  stallMs: number
}

// A registry finishing a multi-GB PUT may think for a while before it answers; a body that moves
// no byte for a minute is stuck. Either way a job must not hang until its six-hour limit.
export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 30_000, headersMs: 120_000, stallMs: 60_000 }

export interface HttpOptions {
  // The proxy for a URL, or undefined to go direct: the decision (environment, NO_PROXY) is the
  // caller's, so this room does not read the runner's conventions.
  proxyFor?: (url: URL) => string | undefined
  timeouts?: Partial<Timeouts>
}

// Statuses whose responses have no body; the Response constructor refuses one for them.
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

export class TransportError extends Error {
  readonly code?: string
  constructor(message: string, cause: unknown) {
    super(message, { cause })
    this.name = 'TransportError'
    const code = (cause as { code?: unknown } | undefined)?.code
    if (typeof code === 'string') this.code = code
  }
}

/**
 * The innermost layer, one HTTP exchange, for every request: undici's dispatcher, not fetch.
 * fetch buffers a streamed request body far ahead of the socket (a 512 MiB PUT peaked at 660 MB
 * RSS, see BENCHMARKS.md); the dispatcher writes a stream as the socket drains, has connect,
 * headers and body timeouts of its own, and tunnels through a proxy with CONNECT. Redirects are
 * the redirect layer's; the answer is a fetch Response so the layers above read one type.
 */
export function createExchange(o: HttpOptions = {}): Send {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...o.timeouts }
  const common = {
    connect: { timeout: timeouts.connectMs },
    headersTimeout: Math.max(timeouts.headersMs, timeouts.stallMs),
    bodyTimeout: timeouts.stallMs,
  }
  const direct = new Agent(common)
  const proxies = new Map<string, Dispatcher>()
  const dispatcherFor = (url: URL): Dispatcher => {
    const proxy = o.proxyFor?.(url)
    if (!proxy) return direct
    let agent = proxies.get(proxy)
    if (!agent) {
      // credentials in the proxy URL become its Proxy-Authorization (undici reads them from uri)
      agent = new ProxyAgent({ uri: proxy, ...common })
      proxies.set(proxy, agent)
    }
    return agent
  }

  return async (req) => {
    const url = new URL(req.url)
    const made = req.body?.()
    const stall = made instanceof Readable ? watchUploadStall(made, timeouts.stallMs) : undefined
    let answer: Dispatcher.ResponseData
    try {
      answer = await dispatcherFor(url).request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: stall?.body ?? made,
        signal:
          stall && req.signal ? AbortSignal.any([stall.signal, req.signal]) : (stall?.signal ?? req.signal),
      })
    } catch (error) {
      throw new TransportError(
        `${req.method} ${redactUrl(req.url)}: ${messageOf(stall?.reason() ?? error)}`,
        stall?.reason() ?? error,
      )
    } finally {
      stall?.stop()
    }
    const headers = new Headers()
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined) continue
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v)
    }
    const noBody = NULL_BODY_STATUSES.has(answer.statusCode) || req.method === 'HEAD'
    if (noBody) answer.body.resume()
    const res = new Response(noBody ? null : webStream(answer.body, req), {
      status: answer.statusCode,
      headers,
    })
    return withRequest(res, { method: req.method, url: req.url })
  }
}

// A pull-driven web stream over the dispatcher's body: one chunk read per chunk asked for, so a
// slow reader holds back the socket (Readable.toWeb's default strategy reads far ahead). A body
// that fails says which request it belonged to, its cause (a stall, a reset) kept for retry.
function webStream(body: Readable, req: SendRequest): ReadableStream<Uint8Array> {
  // the iterator listens only from its first read: a socket that fails before (a server closing a
  // body nobody read yet) must not be an unhandled 'error'; the iterator still sees the error
  body.on('error', () => {})
  const chunks = body[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: IteratorResult<Buffer>
        try {
          next = (await chunks.next()) as IteratorResult<Buffer>
        } catch (error) {
          controller.error(
            new TransportError(
              `${req.method} ${redactUrl(req.url)}: the body broke: ${messageOf(error)}`,
              error,
            ),
          )
          return
        }
        if (next.done) controller.close()
        else
          controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength))
      },
      async cancel() {
        await chunks.return?.()
        // an iterator never read returns without touching the body: close its connection here
        body.destroy()
      },
    },
    { highWaterMark: 0 },
  )
}

function messageOf(error: unknown): string {
  const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown }
  const text = typeof message === 'string' ? message : String(error)
  return typeof code === 'string' && !text.includes(code) ? `${text} [${code}]` : text
}
