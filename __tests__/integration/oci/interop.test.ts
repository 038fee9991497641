import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG, parseManifest } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { skopeo, startTestbed, writeOciLayout, type Testbed } from '../../testbed/index.js'

let bed: Testbed
let work: string
beforeAll(async () => {
  bed = await startTestbed()
  work = await mkdtemp(join(tmpdir(), 'oci-interop-'))
})
afterAll(async () => {
  await bed?.stop()
  await rm(work, { recursive: true, force: true })
})

const creds = () => `alice:${bed.users.alice!}`
const repo = (repository: string) =>
  new Repository({
    registry: bed.registry,
    repository,
    credentials: { username: 'alice', password: bed.users.alice! },
    actions: ['pull', 'push'],
    retry: { baseDelayMs: 1 },
  })

describe('skopeo', () => {
  test('reads what we push: the raw manifest byte for byte, and a copy to an OCI layout', async () => {
    const r = repo('alice/interop-push')
    const data = randomBytes(200_000)
    const layer = {
      ...descriptorOf(data, MediaType.LayerTarGzip),
      annotations: { 'org.opencontainers.image.title': 'x' },
    }
    await r.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
    await r.pushBlob(layer, () => Readable.from([data]))
    const manifest = buildManifest({ artifactType: 'application/vnd.example.dir', layers: [layer] })
    await r.putManifest(manifest.bytes, manifest.mediaType, 'v1')

    const raw = await skopeo(['inspect', '--raw', `docker://${bed.registry}/alice/interop-push:v1`], {
      creds: creds(),
    })
    expect(Buffer.from(raw).equals(manifest.bytes)).toBe(true)

    const dir = join(work, 'copied')
    await skopeo(['copy', `docker://${bed.registry}/alice/interop-push:v1`, `oci:${dir}:v1`], {
      creds: creds(),
    })
    const hex = layer.digest.slice('sha256:'.length)
    expect((await readFile(join(dir, 'blobs', 'sha256', hex))).equals(data)).toBe(true)
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
      manifests: { digest: string }[]
    }
    expect(index.manifests[0]!.digest).toBe(manifest.digest)
  })

  test('we read what skopeo pushes', async () => {
    const dir = join(work, 'layout')
    const data = randomBytes(50_000)
    const written = await writeOciLayout(dir, {
      layers: [{ data }],
      artifactType: 'application/vnd.example.dir',
      tag: 't',
    })
    await skopeo(['copy', `oci:${dir}:t`, `docker://${bed.registry}/alice/interop-pull:v2`], {
      creds: creds(),
    })

    const r = repo('alice/interop-pull')
    const got = await r.getManifest('v2')
    expect(got.digest).toBe(written.manifest.digest)
    const manifest = parseManifest(got.bytes)
    expect(manifest.artifactType).toBe('application/vnd.example.dir')
    const [layer] = manifest.layers
    expect((await buffer(await r.fetchBlob(layer!))).equals(data)).toBe(true)
    expect(await r.listTags()).toEqual(['v2'])
  })
})
