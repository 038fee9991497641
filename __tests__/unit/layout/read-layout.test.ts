import { describe, expect, test } from '@jest/globals'
import { rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

import { isLayout, LayoutError, readLayout } from '../../../src/oci/layout/index.js'
import { LayoutBuilder, tempDir } from './layout-fixture.js'

async function layoutWithIndex(indexJson: string): Promise<string> {
  const layout = await LayoutBuilder.create()
  await writeFile(path.join(layout.dir, 'index.json'), indexJson)
  return layout.dir
}

async function expectLayoutError(dir: string, file: string, message: RegExp): Promise<void> {
  const error = await readLayout(dir).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LayoutError)
  expect((error as LayoutError).file).toBe(path.join(dir, file))
  expect((error as LayoutError).message).toContain(path.join(dir, file))
  expect((error as LayoutError).message).toMatch(message)
}

describe('readLayout', () => {
  test('reads the manifests index.json lists, keeping fields it does not know', async () => {
    const layout = await LayoutBuilder.create()
    const image = await layout.image(['layer'])
    await writeFile(
      path.join(layout.dir, 'index.json'),
      JSON.stringify({ schemaVersion: 2, manifests: [image], annotations: { x: 'y' }, extra: 1 }),
    )
    const read = await readLayout(layout.dir)
    expect(read.dir).toBe(layout.dir)
    expect(read.index.manifests).toEqual([image])
    expect(read.index.annotations).toEqual({ x: 'y' })
    expect(read.index.extra).toBe(1)
  })

  test('an index.json that is not JSON is refused, naming index.json', async () => {
    await expectLayoutError(await layoutWithIndex('{"schemaVersion": 2, '), 'index.json', /not valid JSON/)
  })

  test('an index.json without schemaVersion 2 or without manifests is refused', async () => {
    await expectLayoutError(
      await layoutWithIndex('{"schemaVersion":1,"manifests":[]}'),
      'index.json',
      /schemaVersion/,
    )
    await expectLayoutError(await layoutWithIndex('{"schemaVersion":2}'), 'index.json', /manifests array/)
    await expectLayoutError(await layoutWithIndex('[]'), 'index.json', /not a JSON object/)
  })

  test('a descriptor whose digest could escape blobs/ is refused before any path is built from it', async () => {
    const bad = {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:../../etc/passwd',
      size: 1,
    }
    const dir = await layoutWithIndex(JSON.stringify({ schemaVersion: 2, manifests: [bad] }))
    await expectLayoutError(dir, 'index.json', /manifests\[0\] has an unsupported or malformed digest/)
  })

  test('a descriptor with a negative or fractional size is refused', async () => {
    const digest = `sha256:${'a'.repeat(64)}`
    for (const size of [-1, 1.5, '3']) {
      const entry = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size }
      const dir = await layoutWithIndex(JSON.stringify({ schemaVersion: 2, manifests: [entry] }))
      await expectLayoutError(dir, 'index.json', /invalid size/)
    }
  })

  test('oci-layout must be there and say imageLayoutVersion 1.0.0', async () => {
    const dir = await layoutWithIndex('{"schemaVersion":2,"manifests":[]}')
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}')
    await expectLayoutError(dir, 'oci-layout', /imageLayoutVersion is "2.0.0"/)
    await rm(path.join(dir, 'oci-layout'))
    await expectLayoutError(dir, 'oci-layout', /is missing/)
  })
})

describe('isLayout', () => {
  test('is true with oci-layout and index.json, false when either is missing', async () => {
    const dir = await layoutWithIndex('{"schemaVersion":2,"manifests":[]}')
    expect(await isLayout(dir)).toBe(true)
    await rm(path.join(dir, 'index.json'))
    expect(await isLayout(dir)).toBe(false)
    expect(await isLayout(await tempDir())).toBe(false)
    expect(await isLayout(path.join(dir, 'no-such-folder'))).toBe(false)
  })
})
