import { Readable } from 'node:stream'
import { sendStreamBody } from './stream-upload.js'

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
}

export type Send = (req: SendRequest) => Promise<Response>

export interface SentRequest {
  method: string
  url: string
  // part of an operation that pushes: a refusal of even its reads means the credentials cannot push
  pushing?: boolean
}

// Which request produced a response, so an error built from the response alone can name it.
const sentRequests = new WeakMap<Response, SentRequest>()

export function requestOf(res: Response): SentRequest | undefined {
  return sentRequests.get(res)
}

// The innermost layer: one HTTP exchange, redirects left to the redirect layer.
export function fetchSend(fetchImpl: typeof fetch = globalThis.fetch): Send {
  return async (req) => {
    const body = req.body?.()
    if (body instanceof Readable && fetchImpl === globalThis.fetch) {
      // fetch buffers a streamed request body far ahead of the socket: see stream-upload.ts
      const res = await sendStreamBody(req.url, req.method, req.headers, body)
      sentRequests.set(res, { method: req.method, url: req.url })
      return res
    }
    const init: RequestInit & { duplex?: 'half' } = {
      method: req.method,
      headers: req.headers,
      redirect: 'manual',
    }
    if (body !== undefined) {
      init.body = body as unknown as NonNullable<RequestInit['body']>
      // undici streams a request body only when told the exchange is half duplex
      init.duplex = 'half'
    }
    const res = await fetchImpl(req.url, init)
    sentRequests.set(res, { method: req.method, url: req.url })
    return res
  }
}
