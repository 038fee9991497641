import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { buffer } from 'node:stream/consumers'
import { descriptorOf, type Descriptor } from '../../../src/oci/descriptor.js'
import { DigestMismatchError, RegistryError } from '../../../src/oci/errors.js'
import { buildManifest, EMPTY_CONFIG } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository, type RepositoryOptions } from '../../../src/oci/repository.js'
import { createExchange, type Send } from '../../../src/oci/transport/send.js'
import { startTestbed, type Testbed } from '../../testbed/index.js'

let bed: Testbed
beforeAll(async () => {
  bed = await startTestbed()
})
afterAll(async () => {
  await bed?.stop()
})

const fast = { baseDelayMs: 1, maxDelayMs: 5 }

function repo(repository: string, o: Partial<RepositoryOptions> = {}): Repository {
  return new Repository({
    registry: bed.registry,
    repository,
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: fast,
    ...o,
  })
}

const layerOf = (bytes: Buffer): Descriptor => descriptorOf(bytes, MediaType.LayerTarGzip)

async function pushArtifact(r: Repository, layerBytes: Buffer, tags: string[]) {
  const layer = layerOf(layerBytes)
  await r.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
  await r.pushBlob(layer, () => Readable.from([layerBytes]))
  const manifest = buildManifest({ artifactType: 'application/vnd.example.test', layers: [layer] })
  for (const tag of tags) await r.putManifest(manifest.bytes, manifest.mediaType, tag)
  return { layer, manifest }
}

describe('push and pull', () => {
  test('pushes blobs and a manifest under several tags, and pulls back the same bytes', async () => {
    const r = repo('alice/roundtrip')
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const layer = layerOf(data)
    expect(await r.blobExists(layer.digest)).toBe(false)
    let progressed = 0
    await r.pushBlob(layer, () => Readable.from(chunks(data, 65536)), {
      onProgress: (n) => (progressed += n),
    })
    expect(progressed).toBe(data.length)
    expect(await r.blobExists(layer.digest)).toBe(true)
    await r.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))

    const manifest = buildManifest({ artifactType: 'application/vnd.example.test', layers: [layer] })
    for (const tag of ['v1', 'latest', 'sha-abc']) {
      expect(await r.putManifest(manifest.bytes, manifest.mediaType, tag)).toBe(manifest.digest)
    }
    expect((await r.listTags()).sort()).toEqual(['latest', 'sha-abc', 'v1'])

    for (const ref of ['v1', 'latest', manifest.digest]) {
      const got = await r.getManifest(ref)
      expect(got.digest).toBe(manifest.digest)
      expect(got.mediaType).toBe(MediaType.OciManifest)
      expect(got.bytes.equals(manifest.bytes)).toBe(true)
    }
    expect(await r.headManifest('latest')).toEqual({
      mediaType: MediaType.OciManifest,
      digest: manifest.digest,
      size: manifest.bytes.length,
    })
    expect(await r.headManifest('missing')).toBeUndefined()

    let pulled = 0
    const stream = await r.fetchBlob(layer, { onProgress: (n) => (pulled += n) })
    expect((await buffer(stream)).equals(data)).toBe(true)
    expect(pulled).toBe(data.length)
  })

  test('pushes an empty blob', async () => {
    const r = repo('alice/empty-blob')
    const empty = layerOf(Buffer.alloc(0))
    await r.pushBlob(empty, () => Readable.from([]))
    expect(await buffer(await r.fetchBlob(empty))).toHaveLength(0)
  })

  test('a source that gives other bytes than the descriptor says is refused, not retried', async () => {
    const r = repo('alice/bad-source')
    const layer = layerOf(Buffer.from('the real content'))
    await expect(
      r.pushBlob(layer, () => Readable.from([Buffer.from('the real content, and more')])),
    ).rejects.toThrow(/longer than 16 bytes/)
    await expect(r.pushBlob(layer, () => Readable.from([Buffer.from('other content!!!')]))).rejects.toThrow(
      RegistryError,
    )
    expect(await r.blobExists(layer.digest)).toBe(false)
  })

  test('a streamed upload takes bytes as they come and commits them under the digest given last', async () => {
    const r = repo('alice/streamed')
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const layer = layerOf(data)
    const upload = await r.startStreamedUpload()
    // in pieces, as a pack produces them, each waited for as backpressure asks
    for (let at = 0; at < data.length; at += 256 * 1024) {
      await new Promise<void>((resolve, reject) =>
        upload.body.write(data.subarray(at, at + 256 * 1024), (error) => (error ? reject(error) : resolve())),
      )
    }
    upload.body.end()
    await upload.finish(layer)
    expect((await buffer(await r.fetchBlob(layer))).equals(data)).toBe(true)
  })

  test('a streamed upload committed under another digest is refused, and nothing is stored', async () => {
    const r = repo('alice/streamed-wrong')
    const upload = await r.startStreamedUpload()
    upload.body.end(Buffer.from('what was sent'))
    const claimed = layerOf(Buffer.from('something else'))
    await expect(upload.finish(claimed)).rejects.toThrow(RegistryError)
    expect(await r.blobExists(claimed.digest)).toBe(false)
  })

  test('mounts a blob from another repository the same user can read', async () => {
    const source = repo('alice/mount-source')
    const { layer } = await pushArtifact(source, randomBytes(1000), ['v1'])
    const target = repo('alice/mount-target')
    expect(await target.blobExists(layer.digest)).toBe(false)
    const open = () => Readable.from([Buffer.from('not the blob')])
    expect(await target.pushBlob(layer, open, { mountFrom: 'alice/mount-source' })).toBe('mounted')
    expect(await target.blobExists(layer.digest)).toBe(true)
    const last = bed.tokenRequests.at(-1)!
    expect(last.scopes).toEqual(expect.arrayContaining(['repository:alice/mount-source:pull']))
  })

  test('a mount the registry cannot do goes on as an upload in the session it opened', async () => {
    const target = repo('alice/mount-target-2')
    const data = randomBytes(10)
    const missing = layerOf(data)
    expect(
      await target.pushBlob(missing, () => Readable.from([data]), { mountFrom: 'alice/mount-source' }),
    ).toBe('uploaded')
    expect(await target.blobExists(missing.digest)).toBe(true)
  })

  test('lists tags across Link pages', async () => {
    const r = repo('alice/many-tags')
    const { manifest } = await pushArtifact(r, randomBytes(10), [])
    const tags = Array.from({ length: 23 }, (_, i) => `t${String(i).padStart(3, '0')}`)
    await Promise.all(tags.map((t) => r.putManifest(manifest.bytes, manifest.mediaType, t)))
    const before = bed.tokenRequests.length
    expect((await r.listTags({ pageSize: 5 })).sort()).toEqual(tags)
    // five pages, and the token from the first serves them all
    expect(bed.tokenRequests.length - before).toBeLessThanOrEqual(1)
  })

  test('a repository that does not exist has no tags', async () => {
    expect(await repo('alice/never-pushed').listTags()).toEqual([])
  })
})

describe('auth', () => {
  test('asks the token service once for the whole push, with pull and push, as the user', async () => {
    const before = bed.tokenRequests.length
    await pushArtifact(repo('alice/one-token'), randomBytes(100), ['a', 'b'])
    const asked = bed.tokenRequests.slice(before)
    expect(asked).toHaveLength(1)
    expect(asked[0]).toMatchObject({
      user: 'alice',
      scopes: ['repository:alice/one-token:pull,push'],
      status: 200,
    })
  })

  test('parallel uploads on a fresh client share one token exchange', async () => {
    const r = repo('alice/parallel')
    const blobs = Array.from({ length: 4 }, () => randomBytes(50_000))
    const before = bed.tokenRequests.length
    await Promise.all(blobs.map((b) => r.pushBlob(layerOf(b), () => Readable.from([b]))))
    expect(bed.tokenRequests.length - before).toBe(1)
    for (const b of blobs) expect(await r.blobExists(layerOf(b).digest)).toBe(true)
  })

  test('pulls a public repository anonymously, with an anonymous token', async () => {
    const { layer, manifest } = await pushArtifact(repo('alice/public'), Buffer.from('public bytes'), ['v1'])
    bed.setPublic('alice/public')
    const anonymous = repo('alice/public', { credentials: undefined, actions: ['pull'] })
    const before = bed.tokenRequests.length
    expect((await anonymous.getManifest('v1')).digest).toBe(manifest.digest)
    expect(await text(await anonymous.fetchBlob(layer))).toBe('public bytes')
    expect(bed.tokenRequests.slice(before)).toEqual([
      expect.objectContaining({ user: undefined, scopes: ['repository:alice/public:pull'], status: 200 }),
    ])
  })

  test('anonymous access to a private repository is denied with a RegistryError', async () => {
    await pushArtifact(repo('alice/private'), Buffer.from('secret'), ['v1'])
    const anonymous = repo('alice/private', { credentials: undefined, actions: ['pull'] })
    const error = await anonymous.getManifest('v1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ status: 401, method: 'GET' })
    expect((error as RegistryError).codes.map((c) => c.code)).toContain('UNAUTHORIZED')
  })

  test('another user may not push to alice/ and is told what to check', async () => {
    const bob = repo('alice/not-bobs', { credentials: { username: 'bob', password: bed.users.bob! } })
    const error = await bob
      .pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ status: 401, method: 'POST' })
    expect((error as Error).message).toMatch(/may push/)
  })

  test('a wrong password is refused by the token service with a RegistryError 401', async () => {
    const wrong = repo('alice/wrong', {
      credentials: { username: 'alice', password: 'nope' },
      actions: ['pull'],
    })
    const error = await wrong.listTags().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ status: 401 })
    expect((error as Error).message).not.toContain('nope')
    expect((error as RegistryError).url).toContain('/token')
  })

  test('a token the registry does not accept ends in a RegistryError 401, not a loop', async () => {
    let calls = 0
    // A token service that hands out garbage: the registry refuses it.
    const real = createExchange()
    const forging: Send = async (req) => {
      calls++
      if (req.url.startsWith(bed.realm)) {
        return new Response(JSON.stringify({ token: 'not-a-jwt', expires_in: 300 }), { status: 200 })
      }
      return real(req)
    }
    const r = repo('alice/forged', { exchange: forging, actions: ['pull'] })
    const error = await r.getManifest('v1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ status: 401 })
    expect(calls).toBe(3) // anonymous, token, replay with the token
  })
})

describe('redirects and integrity', () => {
  test('blob reads follow the 307 to the storage host without the registry credentials', async () => {
    const { layer } = await pushArtifact(repo('alice/redirected'), randomBytes(5000), ['v1'])
    const before = bed.storageRequests.length
    await buffer(await repo('alice/redirected', { actions: ['pull'] }).fetchBlob(layer))
    const storage = bed.storageRequests.slice(before)
    expect(storage.length).toBeGreaterThan(0)
    expect(storage.every((s) => !s.authorization && s.status === 200)).toBe(true)
  })

  test('a blob corrupted in storage errors the stream with a DigestMismatchError naming the digest', async () => {
    const data = randomBytes(100_000)
    const { layer } = await pushArtifact(repo('alice/corrupt'), data, ['v1'])
    const file = bed.blobPath(layer.digest)
    const stored = await readFile(file)
    stored[50_000] = stored[50_000]! ^ 0xff
    await writeFile(file, stored)
    const stream = await repo('alice/corrupt').fetchBlob(layer)
    const error = await buffer(stream).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect((error as DigestMismatchError).expected).toBe(layer.digest)
    expect((error as Error).message).toContain(layer.digest)
  })

  test('a blob truncated in storage is a DigestMismatchError too', async () => {
    const data = randomBytes(10_000)
    const { layer } = await pushArtifact(repo('alice/truncated'), data, ['v1'])
    await writeFile(bed.blobPath(layer.digest), data.subarray(0, 9_000))
    const error = await buffer(await repo('alice/truncated').fetchBlob(layer)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DigestMismatchError)
  })
})

function* chunks(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}
