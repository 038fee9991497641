import type { Send, SendRequest } from '../../../src/oci/transport/send.js'

// A Send that answers from a script, in order, and records what it was asked: HTTP without a server.
// For the transport's own tests, which need raw answers no registry gives on cue (a 401 challenge,
// a 307 to a storage host, a body cut mid-way, a digest header that lies). Anything that only needs
// a registry to behave uses the one in-memory registry, __tests__/helpers/memory-registry.ts.
export type Step = Response | Error | ((req: SendRequest) => Response | Promise<Response>)

export interface ScriptedSend {
  send: Send
  requests: SendRequest[]
  // the bodies each request's factory produced, read to text
  bodies: string[]
}

export function scriptedSend(steps: Step[]): ScriptedSend {
  const requests: SendRequest[] = []
  const bodies: string[] = []
  const send: Send = async (req) => {
    requests.push(req)
    const made = req.body?.()
    if (made)
      bodies.push(Buffer.isBuffer(made) ? made.toString() : Buffer.concat(await made.toArray()).toString())
    const step = steps.shift()
    if (!step) throw new Error(`unscripted request ${req.method} ${req.url}`)
    if (step instanceof Error) throw step
    return typeof step === 'function' ? step(req) : step
  }
  return { send, requests, bodies }
}

export function answer(status: number, headers: Record<string, string> = {}, body?: string): Response {
  return new Response(status === 204 || status === 304 ? null : (body ?? ''), { status, headers })
}

export function networkError(code = 'ECONNRESET'): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`socket ${code}`), { code }) })
}

// The bottom layer as a fetch-shaped function: a registry scripted as (url, init) => Response.
export function fetchExchange(fetchImpl: typeof fetch): Send {
  return async (req) => {
    const body = req.body?.()
    return fetchImpl(req.url, {
      method: req.method,
      headers: req.headers,
      body: body as unknown as NonNullable<RequestInit['body']>,
    })
  }
}
