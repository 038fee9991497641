import { afterEach, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { buffer } from 'node:stream/consumers'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { close, listen } from '../../testbed/listen.js'

// The download half of the stall timeout, on real sockets: a body that stops moving is aborted and
// resumed from the byte it stopped at, as a transient failure, never waited on until the job's limit.

const servers: Server[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close))
})

const MiB = 1024 * 1024

test('a blob download whose body stalls is aborted and resumed from where it stopped, and completes', async () => {
  const data = randomBytes(4 * MiB)
  const desc = descriptorOf(data, MediaType.LayerTarGzip)
  const stalledAt = MiB + 123
  const ranges: (string | undefined)[] = []
  const server = createServer((req, res) => {
    ranges.push(req.headers.range)
    if (ranges.length === 1) {
      // the first answer sends part of the body, then nothing more, with the socket left open
      res.writeHead(200, { 'content-length': String(data.length) })
      res.write(data.subarray(0, stalledAt))
      return
    }
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0)
    res.writeHead(206, {
      'content-length': String(data.length - from),
      'content-range': `bytes ${from}-${data.length - 1}/${data.length}`,
    })
    res.end(data.subarray(from))
  })
  servers.push(server)
  const port = await listen(server, '127.0.0.1')
  const logged: string[] = []
  const repo = new Repository({
    registry: `127.0.0.1:${port}`,
    repository: 'o/n',
    actions: ['pull'],
    retry: { baseDelayMs: 1 },
    http: { timeouts: { stallMs: 400, headersMs: 2000 } },
    logger: { debug: () => {}, info: (m) => logged.push(m), warning: (m) => logged.push(m) },
  })
  const started = Date.now()
  const got = await buffer(await repo.fetchBlob(desc))
  expect(got.equals(data)).toBe(true)
  expect(ranges).toEqual([undefined, `bytes=${stalledAt}-`])
  expect(logged.join('\n')).toContain(`broke at byte ${stalledAt}`)
  // aborted by the stall timeout, not by some longer limit
  expect(Date.now() - started).toBeLessThan(5000)
})
