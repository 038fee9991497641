import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import { close, listen } from './listen.js'

/**
 * 503 and 429 are answered by the proxy; `reset` destroys the connection before any answer;
 * `truncate` forwards the request and cuts the answer's body halfway (or right after the headers
 * when it has no length), as a dropped connection does mid-download.
 */
export type Fault = '503' | '429' | 'reset' | 'truncate'

export interface FaultProxyOptions {
  /** What to front: `127.0.0.1:PORT` or `http://127.0.0.1:PORT`. */
  target: string
  /** The share of eligible requests that get a fault, 0 to 1. */
  failRate: number
  /** Faults drawn from, uniformly. */
  faults: Fault[]
  /** Same seed, same order of requests: same faults. Default 1. */
  seed?: number
  /** No more faults than this in a row, so a client with a few retries always gets through. Default 2. */
  maxConsecutive?: number
  /** No more faults than this in total. Default unlimited. */
  maxFaults?: number
  /** Only requests this accepts may get a fault (say, only blob uploads). Default: all. */
  eligible?: (request: { method: string; path: string }) => boolean
  /**
   * Milliseconds to hold each request before it goes on, as a distant registry's round trip
   * does: widens the window in which racing clients interleave. Default none.
   */
  latencyMs?: (request: { method: string; path: string }) => number
}

export interface ProxiedRequest {
  method: string
  path: string
  fault?: Fault
  /** The status the client saw; undefined for a reset or an upstream failure. */
  status?: number
  /** The request's Content-Length, when it sent one. */
  bytes?: number
  /** Date.now() when the registry's answer came back: the order in which writes landed. */
  answeredAt?: number
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, to use as the registry of a reference. */
  registry: string
  url: string
  requests: ProxiedRequest[]
  /** How many faults were injected so far. */
  readonly faultCount: number
  stop(): Promise<void>
}

/**
 * An HTTP proxy in front of the registry that fails a share of requests, as a flaky network or an
 * overloaded ghcr.io does: a 503 or 429 answer, or a connection destroyed before any answer. The
 * Host header passes through untouched, so the registry's upload Locations point back here.
 */
/**
 * A distant registry: no faults, 20-250 ms on every manifest and tag request, which widens the
 * window in which racing jobs' reads and writes interleave, as on ghcr.io.
 */
export function startDistantRegistry(target: string): Promise<FaultProxy> {
  return startFaultProxy({
    target,
    failRate: 0,
    faults: [],
    latencyMs: ({ path: p }) => (/\/(manifests|tags)\//.test(p) ? 20 + Math.random() * 230 : 0),
  })
}

export async function startFaultProxy(o: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(o.target.includes('://') ? o.target : `http://${o.target}`)
  const random = mulberry32(o.seed ?? 1)
  const maxConsecutive = o.maxConsecutive ?? 2
  const maxFaults = o.maxFaults ?? Infinity
  const requests: ProxiedRequest[] = []
  let faultCount = 0
  let consecutive = 0

  const pickFault = (method: string, path: string): Fault | undefined => {
    if (o.faults.length === 0 || (o.eligible && !o.eligible({ method, path }))) return undefined
    // Draw even when capped, so the caps do not shift which later requests fail.
    const roll = random()
    const which = o.faults[Math.floor(random() * o.faults.length)]
    if (roll >= o.failRate || consecutive >= maxConsecutive || faultCount >= maxFaults) {
      consecutive = 0
      return undefined
    }
    consecutive++
    faultCount++
    return which
  }

  const server = createServer((req, res) => {
    const record: ProxiedRequest = { method: req.method ?? '', path: req.url ?? '/' }
    if (req.headers['content-length']) record.bytes = Number(req.headers['content-length'])
    requests.push(record)
    record.fault = pickFault(record.method, record.path)
    const go = () => {
      if (record.fault === 'reset') return req.socket.destroy()
      if (record.fault === '503' || record.fault === '429') return answerFault(req, res, record)
      forward(req, res, target, record)
    }
    const wait = o.latencyMs?.(record) ?? 0
    if (wait > 0) setTimeout(go, wait)
    else go()
  })

  const port = await listen(server, '127.0.0.1')
  return {
    registry: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    get faultCount() {
      return faultCount
    },
    stop: () => close(server),
  }
}

function answerFault(req: IncomingMessage, res: ServerResponse, record: ProxiedRequest): void {
  req.resume()
  record.status = Number(record.fault)
  const body = Buffer.from(
    JSON.stringify({
      errors: [
        { code: record.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected fault' },
      ],
    }),
  )
  res.writeHead(record.status, {
    'content-type': 'application/json',
    'content-length': body.length,
    // ghcr.io names a wait on 429; one second keeps a retrying test quick.
    ...(record.status === 429 ? { 'retry-after': '1' } : {}),
  })
  res.end(body)
}

function forward(req: IncomingMessage, res: ServerResponse, target: URL, record: ProxiedRequest): void {
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      record.status = answer.statusCode
      record.answeredAt = Date.now()
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
      if (record.fault !== 'truncate') return void answer.pipe(res)
      let budget = Math.floor(Number(answer.headers['content-length'] ?? 0) / 2)
      res.flushHeaders()
      // Ending the socket (not destroying it) first flushes what was written: exactly half arrives.
      if (budget === 0) return void res.socket?.end()
      answer.on('data', (chunk: Buffer) => {
        if (budget <= 0) return
        res.write(chunk.subarray(0, budget))
        budget -= chunk.length
        if (budget <= 0) {
          answer.destroy()
          res.socket?.end()
        }
      })
    },
  )
  upstream.on('error', () => res.destroy())
  req.on('error', () => upstream.destroy())
  req.pipe(upstream)
}

/** A small seeded PRNG (Tommy Ettinger's mulberry32): same seed, same sequence in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
