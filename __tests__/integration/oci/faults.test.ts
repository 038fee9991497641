import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { createExchange, type Send } from '../../../src/oci/transport/send.js'
import { startFaultProxy, startTestbed, type FaultProxy, type Testbed } from '../../testbed/index.js'

let bed: Testbed
let proxy: FaultProxy
beforeAll(async () => {
  bed = await startTestbed()
  proxy = await startFaultProxy({ target: bed.url, failRate: 0.3, faults: ['503', '429', 'reset'], seed: 7 })
})
afterAll(async () => {
  await proxy?.stop()
  await bed?.stop()
})

test('push and pull succeed through a proxy that fails a third of the requests', async () => {
  const slept: number[] = []
  const r = new Repository({
    registry: proxy.registry,
    repository: 'alice/flaky',
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    // the proxy's 429s ask for a second: record the waits instead of sitting them out
    retry: { baseDelayMs: 1, sleep: async (ms) => void slept.push(ms) },
  })
  const blobs = [randomBytes(1024 * 1024), randomBytes(70_000), randomBytes(3)].map((data) => ({
    data,
    desc: descriptorOf(data, MediaType.LayerTarGzip),
  }))
  await r.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
  for (const { data, desc } of blobs) {
    if (!(await r.blobExists(desc.digest))) await r.pushBlob(desc, () => Readable.from([data]))
  }
  const manifest = buildManifest({
    artifactType: 'application/vnd.example',
    layers: blobs.map((b) => b.desc),
  })
  for (const tag of ['a', 'b', 'c']) await r.putManifest(manifest.bytes, manifest.mediaType, tag)

  expect((await r.listTags()).sort()).toEqual(['a', 'b', 'c'])
  for (const tag of ['a', 'b', 'c']) expect((await r.getManifest(tag)).digest).toBe(manifest.digest)
  for (const { data, desc } of blobs) expect((await buffer(await r.fetchBlob(desc))).equals(data)).toBe(true)

  // the proxy really did fail requests of every kind, and the client rode them out
  expect(proxy.faultCount).toBeGreaterThan(5)
  const faulted = new Set(proxy.requests.filter((q) => q.fault).map((q) => q.fault))
  expect(faulted).toEqual(new Set(['503', '429', 'reset']))
  expect(slept).toContain(1000)
})

test('a blob download cut off mid-body resumes with a Range request to the storage host', async () => {
  const data = randomBytes(2 * 1024 * 1024)
  const desc = descriptorOf(data, MediaType.LayerTarGzip)
  const direct = (exchange?: Send) =>
    new Repository({
      registry: bed.registry,
      repository: 'alice/cut-off',
      credentials: { username: 'alice', password: bed.users.alice! },
      actions: ['pull', 'push'],
      retry: { baseDelayMs: 1 },
      exchange,
    })
  await direct().pushBlob(desc, () => Readable.from([data]))

  // The first two storage responses break after 300 KB, as a dropped connection does.
  const ranges: (string | null)[] = []
  let cuts = 2
  const real = createExchange()
  const cutting: Send = async (req) => {
    const res = await real(req)
    if (!req.url.startsWith('http://127.0.0.2')) return res
    ranges.push(req.headers.range ?? null)
    if (cuts-- <= 0 || !res.body) return res
    return new Response(cutAfter(res.body, 300_000), { status: res.status, headers: res.headers })
  }
  const before = bed.storageRequests.length
  expect((await buffer(await direct(cutting).fetchBlob(desc))).equals(data)).toBe(true)
  expect(ranges[0]).toBeNull()
  expect(ranges.slice(1)).toEqual([
    expect.stringMatching(/^bytes=[1-9]\d*-$/),
    expect.stringMatching(/^bytes=[1-9]\d*-$/),
  ])
  const served = bed.storageRequests.slice(before)
  expect(served.map((s) => s.status)).toEqual([200, 206, 206])
  expect(served.every((s) => !s.authorization)).toBe(true)
})

function cutAfter(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  const reader = body.getReader()
  let sent = 0
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        await reader.cancel()
        controller.error(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }))
        return
      }
      const { done, value } = await reader.read()
      if (done) return controller.close()
      sent += value.byteLength
      controller.enqueue(value)
    },
  })
}

test('a download the storage host cuts, and whose resume it then answers with a 503, still completes', async () => {
  const data = randomBytes(1024 * 1024)
  const desc = descriptorOf(data, MediaType.LayerTarGzip)
  const r = new Repository({
    registry: bed.registry,
    repository: 'alice/cut-then-busy',
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: { baseDelayMs: 1 },
  })
  await r.pushBlob(desc, () => Readable.from([data]))
  const before = bed.storageRequests.length
  bed.failStorage('truncate', '503')
  expect((await buffer(await r.fetchBlob(desc))).equals(data)).toBe(true)
  const served = bed.storageRequests.slice(before)
  // the cut body, the refused resume, and the resume again (retried by the transport, once)
  expect(served.map((s) => [s.status, s.fault])).toEqual([
    [200, 'truncate'],
    [503, '503'],
    [206, undefined],
  ])
})

test('a 401 from the storage host is the answer: no credentials go to the realm it names', async () => {
  const data = randomBytes(10_000)
  const desc = descriptorOf(data, MediaType.LayerTarGzip)
  const r = new Repository({
    registry: bed.registry,
    repository: 'alice/storage-challenge',
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: { baseDelayMs: 1 },
  })
  await r.pushBlob(desc, () => Readable.from([data]))
  const before = bed.storageRequests.length
  bed.failStorage('401')
  await expect(r.fetchBlob(desc)).rejects.toMatchObject({ status: 401 })
  const served = bed.storageRequests.slice(before)
  expect(served.map((s) => s.path.startsWith('/token'))).toEqual([false])
  expect(served.every((s) => !s.authorization)).toBe(true)
})
