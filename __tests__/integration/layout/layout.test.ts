import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import {
  LayoutError,
  pullToLayout,
  pushLayout,
  readLayout,
  selectManifests,
  verifyLayout,
} from '../../../src/oci/layout/index.js'
import { Repository } from '../../../src/oci/repository.js'
import { skopeo, startTestbed, type Testbed } from '../../testbed/index.js'
import { LayoutBuilder } from '../../unit/layout/layout-fixture.js'
import { writeSeedLayout, type SeedLayout } from './seed-layout.js'

const run = promisify(execFile)
const sha256 = (bytes: Buffer | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

let bed: Testbed
let work: string
let creds: string
beforeAll(async () => {
  bed = await startTestbed()
  work = await mkdtemp(path.join(tmpdir(), 'layout-it-'))
  creds = `alice:${bed.users.alice}`
})
afterAll(async () => {
  await bed?.stop()
  await rm(work, { recursive: true, force: true })
})

const repository = (name: string) =>
  new Repository({
    registry: bed.registry,
    repository: `alice/${name}`,
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull', 'push'],
  })

const rawManifest = async (reference: string) =>
  Buffer.from(await skopeo(['inspect', '--raw', reference], { creds }))

async function publish(dir: string, name: string, tag?: string) {
  const layout = await readLayout(dir)
  return pushLayout(layout, repository(name), selectManifests(layout, tag), tag ? [tag] : [])
}

describe('a layout shaped like the seed’s', () => {
  let seed: SeedLayout
  beforeAll(async () => {
    seed = await writeSeedLayout(path.join(work, 'seed'), 'the seed')
  })

  test('is what skopeo reads as oci:DIR:1.0.0 (the fixture is sound)', async () => {
    const raw = Buffer.from(await skopeo(['inspect', '--raw', `oci:${seed.dir}:1.0.0`]))
    expect(sha256(raw)).toBe(seed.manifest.digest)
  })

  test('pushes with the layout’s manifest digest unchanged, every blob byte for byte', async () => {
    const [pushed] = await publish(seed.dir, 'anakin', '1.0.0')

    expect(pushed).toMatchObject({ digest: seed.manifest.digest, tags: ['1.0.0'] })
    const raw = await rawManifest(`docker://${bed.registry}/alice/anakin:1.0.0`)
    expect(sha256(raw)).toBe(seed.manifest.digest)
    expect(
      raw.equals(await readFile(path.join(seed.dir, 'blobs/sha256', seed.manifest.digest.slice(7)))),
    ).toBe(true)
    for (const blob of [seed.layer, seed.config]) {
      expect(sha256(await readFile(bed.blobPath(blob.digest)))).toBe(blob.digest)
    }
  })

  test('a second push uploads nothing the registry already has', async () => {
    const layout = await readLayout(seed.dir)
    let plan: { uploadBlobs: number; skippedBlobs: number } | undefined
    const [pushed] = await pushLayout(layout, repository('anakin'), selectManifests(layout), ['again'], {
      onStart: (p) => (plan = p),
    })
    expect(plan).toMatchObject({ uploadBlobs: 0, skippedBlobs: 2 })
    expect(pushed?.digest).toBe(seed.manifest.digest)
    expect(sha256(await rawManifest(`docker://${bed.registry}/alice/anakin:again`))).toBe(
      seed.manifest.digest,
    )
  })

  test('pulls back into a layout whose layer unpacks to the files that went in', async () => {
    const dir = path.join(work, 'pulled-seed')
    const pulled = await pullToLayout(repository('anakin'), '1.0.0', dir)
    expect(pulled.digest).toBe(seed.manifest.digest)
    const layer = path.join(dir, 'blobs/sha256', seed.layer.digest.slice(7))
    const out = path.join(work, 'unpacked-seed')
    await run('mkdir', ['-p', out])
    await run('tar', ['-xzf', layer, '-C', out])
    expect(await readFile(path.join(out, 'anakin/README.md'), 'utf8')).toBe('# anakin\nthe seed\n')
  })
})

describe('a layout written by pullToLayout', () => {
  let seed: SeedLayout
  let dir: string
  beforeAll(async () => {
    seed = await writeSeedLayout(path.join(work, 'seed-for-pull'), 'pulled by us, read by skopeo')
    await skopeo(['copy', `oci:${seed.dir}:1.0.0`, `docker://${bed.registry}/alice/for-pull:1.0.0`], {
      creds,
    })
    await skopeo(['copy', `oci:${seed.dir}:1.0.0`, `docker://${bed.registry}/alice/for-pull:latest`], {
      creds,
    })
    dir = path.join(work, 'pulled')
    await pullToLayout(repository('for-pull'), '1.0.0', dir)
  })

  test('is read by skopeo under the pulled tag, with the registry’s manifest digest', async () => {
    const registryDigest = sha256(await rawManifest(`docker://${bed.registry}/alice/for-pull:1.0.0`))
    const raw = Buffer.from(await skopeo(['inspect', '--raw', `oci:${dir}:1.0.0`]))
    expect(sha256(raw)).toBe(registryDigest)
  })

  test('is copied by skopeo to another layout and to a registry', async () => {
    await skopeo(['copy', `oci:${dir}:1.0.0`, `oci:${path.join(work, 'skopeo-copy')}:copied`])
    const copied = Buffer.from(
      await skopeo(['inspect', '--raw', `oci:${path.join(work, 'skopeo-copy')}:copied`]),
    )
    await skopeo(['copy', `oci:${dir}:1.0.0`, `docker://${bed.registry}/alice/from-pulled:1.0.0`], { creds })
    const pushed = await rawManifest(`docker://${bed.registry}/alice/from-pulled:1.0.0`)
    expect(sha256(copied)).toBe(seed.manifest.digest)
    expect(sha256(pushed)).toBe(seed.manifest.digest)
  })

  test('takes a second tag beside the first, both readable by skopeo', async () => {
    await pullToLayout(repository('for-pull'), 'latest', dir)
    const layout = await readLayout(dir)
    expect(layout.index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual([
      '1.0.0',
      'latest',
    ])
    for (const tag of ['1.0.0', 'latest']) {
      expect(sha256(Buffer.from(await skopeo(['inspect', '--raw', `oci:${dir}:${tag}`])))).toBe(
        seed.manifest.digest,
      )
    }
  })
})

describe('a layout written by skopeo', () => {
  test('pushes with the digest skopeo wrote', async () => {
    const seed = await writeSeedLayout(path.join(work, 'seed-for-skopeo'), 'through skopeo')
    await skopeo(['copy', `oci:${seed.dir}:1.0.0`, `docker://${bed.registry}/alice/via-skopeo:1.0.0`], {
      creds,
    })
    const dir = path.join(work, 'skopeo-layout')
    await skopeo(['copy', `docker://${bed.registry}/alice/via-skopeo:1.0.0`, `oci:${dir}:v1`], { creds })
    const written = sha256(Buffer.from(await skopeo(['inspect', '--raw', `oci:${dir}:v1`])))

    const [pushed] = await publish(dir, 'from-skopeo-layout', 'v1')

    expect(pushed?.digest).toBe(written)
    expect(sha256(await rawManifest(`docker://${bed.registry}/alice/from-skopeo-layout:v1`))).toBe(written)
  })
})

describe('a multi-platform layout (index -> index -> manifests)', () => {
  test('pushes children first so the registry accepts the index, and pulls back whole', async () => {
    const builder = await LayoutBuilder.create()
    const amd64 = await builder.image(['amd64 layer'])
    const arm64 = await builder.image(['arm64 layer'])
    const outer = await builder.index([await builder.index([amd64, arm64])])
    await builder.writeIndex([{ descriptor: outer, name: 'multi' }])

    const [pushed] = await publish(builder.dir, 'multi')

    expect(pushed?.digest).toBe(outer.digest)
    expect(sha256(await rawManifest(`docker://${bed.registry}/alice/multi:multi`))).toBe(outer.digest)
    const dir = path.join(work, 'multi-pulled')
    const pulled = await pullToLayout(repository('multi'), 'multi', dir)
    const layout = await readLayout(dir)
    expect(await verifyLayout(layout, selectManifests(layout, 'multi'))).toHaveLength(pulled.blobs)
    expect(sha256(Buffer.from(await skopeo(['inspect', '--raw', `oci:${dir}:multi`])))).toBe(outer.digest)
  })
})

describe('a broken layout', () => {
  const repositoryDir = (name: string) =>
    path.join(bed.storageDir, 'docker/registry/v2/repositories/alice', name)
  const exists = (file: string) =>
    access(file).then(
      () => true,
      () => false,
    )

  async function expectRefusedBeforeUpload(name: string, breakIt: (seed: SeedLayout) => Promise<string>) {
    const seed = await writeSeedLayout(path.join(work, name), name)
    const file = await breakIt(seed)
    const tokensBefore = bed.tokenRequests.length

    const error = await publish(seed.dir, name, '1.0.0').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(LayoutError)
    expect((error as LayoutError).file).toBe(file)
    expect((error as LayoutError).message).toContain(file)
    // not even a token was asked for, so no request reached the registry
    expect(bed.tokenRequests.slice(tokensBefore)).toEqual([])
    expect(await exists(repositoryDir(name))).toBe(false)
    expect(await exists(bed.blobPath(seed.config.digest))).toBe(false)
  }

  test('a missing layer is refused, naming the blob file', async () => {
    await expectRefusedBeforeUpload('broken-missing', async (seed) => {
      const file = path.join(seed.dir, 'blobs/sha256', seed.layer.digest.slice(7))
      await rm(file)
      return file
    })
  })

  test('a layer whose content does not match its digest is refused, naming the blob file', async () => {
    await expectRefusedBeforeUpload('broken-content', async (seed) => {
      const file = path.join(seed.dir, 'blobs/sha256', seed.layer.digest.slice(7))
      const bytes = await readFile(file)
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1)
      await writeFile(file, bytes)
      return file
    })
  })

  test('an index.json that is not JSON is refused, naming index.json', async () => {
    await expectRefusedBeforeUpload('broken-index', async (seed) => {
      const file = path.join(seed.dir, 'index.json')
      await writeFile(file, '{"schemaVersion": 2, "manifests": [')
      return file
    })
  })
})
