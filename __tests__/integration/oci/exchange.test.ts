import { afterEach, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { isRetryableError } from '../../../src/oci/transport/retry.js'
import { createExchange, TransportError } from '../../../src/oci/transport/send.js'
import { close, listen } from '../../testbed/listen.js'

// The bottom layer on real sockets: what it streams, and how it gives up on a peer that stalls.

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close))
})

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler)
  servers.push(server)
  return `http://127.0.0.1:${await listen(server, '127.0.0.1')}`
}

const MiB = 1024 * 1024
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// An endless source that counts what was taken from it.
function endless(): { stream: Readable; taken: () => number } {
  let taken = 0
  const chunk = Buffer.alloc(MiB)
  const stream = new Readable({
    read() {
      taken += chunk.length
      this.push(chunk)
    },
  })
  return { stream, taken: () => taken }
}

describe('the exchange', () => {
  test('reads a streamed request body only as fast as the socket takes it', async () => {
    // a peer that takes the request but reads none of its body
    const url = await serve((req) => req.pause())
    const source = endless()
    const send = createExchange({ timeouts: { stallMs: 1500 } })
    const sent = send({ method: 'PUT', url: `${url}/blob`, headers: {}, body: () => source.stream })
    sent.catch(() => undefined)
    await sleep(700)
    // socket buffers and the stream's own are a few MiB; fetch read the whole source ahead
    expect(source.taken()).toBeLessThan(64 * MiB)
    await expect(sent).rejects.toThrow(TransportError)
  })

  test('an upload whose peer stops reading fails as a transient error, naming the request', async () => {
    const url = await serve((req) => {
      let read = 0
      req.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read > MiB) req.pause()
      })
    })
    const source = endless()
    const started = Date.now()
    const error = await createExchange({ timeouts: { stallMs: 400 } })({
      method: 'PUT',
      url: `${url}/v2/o/n/blobs/uploads/u1`,
      headers: {},
      body: () => source.stream,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransportError)
    expect((error as Error).message).toMatch(
      /^PUT http:\/\/127\.0\.0\.1:\d+\/v2\/o\/n\/blobs\/uploads\/u1: .*stalled/,
    )
    expect(isRetryableError(error)).toBe(true)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  test('a producer that is slow, not stuck, is no stall', async () => {
    const url = await serve(async (req, res) => {
      const got = Buffer.concat(await req.toArray())
      res.writeHead(201).end(String(got.length))
    })
    async function* slowly() {
      for (let i = 0; i < 3; i++) {
        await sleep(500)
        yield Buffer.alloc(1000)
      }
    }
    const res = await createExchange({ timeouts: { stallMs: 300 } })({
      method: 'PUT',
      url: `${url}/blob`,
      headers: {},
      body: () => Readable.from(slowly()),
    })
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('3000')
  })

  test('a response body that stops moving fails as a transient error', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(10 * MiB) })
      res.write(Buffer.alloc(1000))
    })
    const res = await createExchange({ timeouts: { stallMs: 400 } })({ method: 'GET', url, headers: {} })
    const error = await res.arrayBuffer().catch((e: unknown) => e)
    expect(isRetryableError(error)).toBe(true)
    expect(String((error as Error).message)).toMatch(/the body broke/)
  })

  test('a server that never answers fails after the headers timeout, as a transient error', async () => {
    const url = await serve(() => {})
    const error = await createExchange({ timeouts: { headersMs: 300, stallMs: 300 } })({
      method: 'GET',
      url,
      headers: {},
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' })
    expect(isRetryableError(error)).toBe(true)
  })
})

test('a blob upload whose PUT stalls starts over and succeeds', async () => {
  const data = randomBytes(24 * MiB)
  const desc = descriptorOf(data, MediaType.LayerTarGzip)
  let puts = 0
  let stored: Buffer | undefined
  const url = new URL(
    await serve(async (req, res) => {
      if (req.method === 'POST')
        return res.writeHead(202, { location: `/v2/o/n/blobs/uploads/s${puts}` }).end()
      if (req.method !== 'PUT') return res.writeHead(405).end()
      if (++puts === 1) return req.once('data', () => req.pause()) // take a little, then nothing
      stored = Buffer.concat(await req.toArray())
      res.writeHead(201).end()
    }),
  )
  const repo = new Repository({
    registry: url.host,
    repository: 'o/n',
    actions: ['push'],
    retry: { baseDelayMs: 1 },
    http: { timeouts: { stallMs: 400, headersMs: 400 } },
  })
  await repo.pushBlob(desc, () => Readable.from([data]))
  expect(puts).toBe(2)
  expect(stored?.equals(data)).toBe(true)
})
