import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:https'
import { join, normalize } from 'node:path'
import { close, listen } from './listen.js'

/** One request to the storage host: tests assert that clients never carried credentials here. */
export interface StorageRequest {
  method: string
  path: string
  authorization: boolean
  /** 0 when the connection was reset before an answer. */
  status: number
  fault?: StorageFault
  /** The host closed the connection, idle, before the client had taken the whole response. */
  abandoned?: boolean
}

/**
 * How a blob download can go wrong at the storage host: a 503, a connection reset before any
 * answer, a 200 with the full Content-Length whose body stops halfway (`truncate`: the
 * connection closes; `stall`: it stays open, sending nothing more, until the host stops), or a 401
 * whose Bearer challenge names a realm on the storage host itself (a client must not answer it),
 * or `slow`: the answer, a whole one, comes only after SLOW_ANSWER_MS (a host far away).
 */
export type StorageFault = '503' | 'reset' | 'truncate' | 'stall' | '401' | 'slow'

const SLOW_ANSWER_MS = 1000

export interface StorageHost {
  /** `http://127.0.0.2:PORT`: the registry's redirect middleware base URL. */
  url: string
  requests: StorageRequest[]
  /** Queues faults: each of the next GETs of a blob takes one, in order. */
  failNext(...faults: StorageFault[]): void
  stop(): Promise<void>
}

// The redirect middleware of Distribution 2.8 puts the storage driver's own path after the base
// URL (any path in the base URL is dropped), and blob data lives under this prefix.
const BLOB_PREFIX = '/docker/registry/v2/blobs/'

/**
 * Stands in for ghcr.io's blob storage (pkg-containers.githubusercontent.com): another origin,
 * reached by a 307 from the registry, that serves blob bytes and refuses any request that carries
 * an Authorization header, as signed-URL storage does. A client that forwards the registry token
 * across origins fails here.
 */
export interface StorageHostOptions {
  /**
   * Closes a connection that has been idle this long, a response half-sent included, as the load
   * balancers in front of blob storage do: a client that stops reading a body without cancelling it
   * sees its socket closed under it. Default: never.
   */
  idleTimeoutMs?: number
}

export async function startStorageHost(
  root: string,
  host: string,
  tls?: ServerTls,
  o: StorageHostOptions = {},
): Promise<StorageHost> {
  const requests: StorageRequest[] = []
  const faults: StorageFault[] = []

  // the response each connection is sending, for the idle timeout to say whom it cut off
  const sending = new WeakMap<Socket, { record: StorageRequest; res: ServerResponse }>()
  const server = serverFor(tls, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://storage').pathname
    const record: StorageRequest = {
      method: req.method ?? '',
      path,
      authorization: !!req.headers.authorization,
      status: 0,
    }
    requests.push(record)
    sending.set(req.socket, { record, res })
    const reply = (status: number, message: string): void => {
      record.status = status
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(message) })
      res.end(req.method === 'HEAD' ? undefined : message)
    }

    if (record.authorization) return reply(403, 'credentials are not accepted by the storage host\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'GET or HEAD only\n')
    const relative = normalize(decodeURIComponent(path))
    if (!relative.startsWith(BLOB_PREFIX) || relative.includes('..')) return reply(404, 'not a blob\n')

    const file = join(root, relative)
    const fault = req.method === 'GET' ? faults.shift() : undefined
    if (fault) record.fault = fault
    if (fault === 'reset') return req.socket.destroy()
    if (fault === '503') return reply(503, 'injected fault\n')
    if (fault === '401') {
      const realm = `http://${req.headers.host ?? host}/token`
      res.setHeader('www-authenticate', `Bearer realm="${realm}",service="storage"`)
      return reply(401, 'injected challenge\n')
    }
    const answer = () =>
      stat(file).then(
        (s) => {
          const range = parseRange(req.headers.range, s.size)
          if (range === 'invalid') {
            record.status = 416
            res.writeHead(416, { 'content-range': `bytes */${s.size}` })
            return res.end()
          }
          const { start, end } = range ?? { start: 0, end: s.size - 1 }
          record.status = range ? 206 : 200
          res.writeHead(record.status, {
            'content-type': 'application/octet-stream',
            'content-length': Math.max(0, end - start + 1),
            'accept-ranges': 'bytes',
            ...(range ? { 'content-range': `bytes ${start}-${end}/${s.size}` } : {}),
          })
          if (req.method === 'HEAD' || end < start) return res.end()
          if (fault === 'truncate' || fault === 'stall')
            return sendFile(res, file, start, start + Math.floor((end - start) / 2), fault)
          sendFile(res, file, start, end)
        },
        () => reply(404, 'no such blob\n'),
      )
    if (fault !== 'slow') return void answer()
    // the host is thinking, not idle: its own idle timeout waits for the answer to start
    req.socket.setTimeout(0)
    setTimeout(() => {
      if (o.idleTimeoutMs) req.socket.setTimeout(o.idleTimeoutMs)
      void answer()
    }, SLOW_ANSWER_MS)
  })

  if (o.idleTimeoutMs) {
    server.setTimeout(o.idleTimeoutMs, (socket) => {
      const current = sending.get(socket)
      if (current?.res.headersSent && !current.res.writableFinished) current.record.abandoned = true
      socket.destroy()
    })
  }
  const port = await listen(server, host)
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    requests,
    failNext: (...next) => faults.push(...next),
    stop: () => close(server),
  }
}

/**
 * Streams bytes start..end; then `truncate` drops the connection, short of the promised length,
 * and `stall` leaves it open with nothing more to send.
 */
function sendFile(
  res: ServerResponse,
  file: string,
  start: number,
  end: number,
  cut?: 'truncate' | 'stall',
): void {
  const stream = createReadStream(file, { start, end })
  stream.on('error', () => res.destroy())
  if (!cut) return void stream.pipe(res)
  stream.pipe(res, { end: false })
  // Ending the socket, not destroying it, flushes the bytes written so far before it closes.
  if (cut === 'truncate') stream.on('end', () => res.socket?.end())
}

/** A single `bytes=a-b` or `bytes=a-` range, which is what resuming downloaders send. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined
  const match = /^bytes=(\d+)-(\d*)$/.exec(header.trim())
  if (!match) return 'invalid'
  const start = Number(match[1])
  const end = match[2] ? Math.min(Number(match[2]), size - 1) : size - 1
  return start < size && start <= end ? { start, end } : 'invalid'
}

/** A certificate and key to serve https with (the bed's throwaway CA signed them). */
export interface ServerTls {
  cert: Buffer
  key: Buffer
}

/** An http server, or an https one when given a certificate: the handlers are the same. */
export function serverFor(
  tls: ServerTls | undefined,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  return tls ? createTlsServer({ cert: tls.cert, key: tls.key }, handler) : createServer(handler)
}
