import { describe, expect, test } from '@jest/globals'
import { createHash } from 'node:crypto'
import { descriptorOf, sha256Digest } from '../../../src/oci/descriptor.js'
import {
  buildManifest,
  EMPTY_CONFIG,
  InvalidManifestError,
  manifestChildren,
  parseManifest,
  readManifest,
} from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'

const layer = {
  ...descriptorOf(Buffer.from('layer'), MediaType.LayerTarGzip),
  annotations: { b: '2', a: '1' },
}

describe('EMPTY_CONFIG', () => {
  test('is the two bytes "{}", inlined', () => {
    const bytes = Buffer.from(EMPTY_CONFIG.data!, 'base64')
    expect(bytes.toString()).toBe('{}')
    expect(EMPTY_CONFIG.size).toBe(2)
    expect(EMPTY_CONFIG.digest).toBe(`sha256:${createHash('sha256').update('{}').digest('hex')}`)
    expect(EMPTY_CONFIG.mediaType).toBe('application/vnd.oci.empty.v1+json')
  })
})

describe('buildManifest', () => {
  test('an OCI 1.1 artifact manifest: artifactType, the empty config, layers; digest of the bytes', () => {
    const built = buildManifest({
      artifactType: 'application/vnd.example+type',
      layers: [layer],
      annotations: { z: '1', y: '2' },
    })
    expect(built.mediaType).toBe(MediaType.OciManifest)
    expect(built.digest).toBe(sha256Digest(built.bytes))
    expect(built.bytes.toString()).toBe(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        artifactType: 'application/vnd.example+type',
        config: { mediaType: EMPTY_CONFIG.mediaType, digest: EMPTY_CONFIG.digest, size: 2, data: 'e30=' },
        layers: [
          {
            mediaType: layer.mediaType,
            digest: layer.digest,
            size: layer.size,
            annotations: { a: '1', b: '2' },
          },
        ],
        annotations: { y: '2', z: '1' },
      }),
    )
  })

  test('the same inputs in another key order give the same bytes', () => {
    const a = buildManifest({ artifactType: 't', layers: [layer], annotations: { a: '1', b: '2' } })
    const shuffled = {
      annotations: { a: '1', b: '2' },
      size: layer.size,
      digest: layer.digest,
      mediaType: layer.mediaType,
    }
    const b = buildManifest({ annotations: { b: '2', a: '1' }, layers: [shuffled], artifactType: 't' })
    expect(b.digest).toBe(a.digest)
  })

  test('an empty config needs an artifactType', () => {
    expect(() => buildManifest({ layers: [layer] })).toThrow(InvalidManifestError)
  })

  test('a real config needs none', () => {
    const config = descriptorOf(Buffer.from('{"architecture":"amd64"}'), MediaType.OciConfig)
    const parsed = JSON.parse(buildManifest({ config, layers: [] }).bytes.toString()) as Record<
      string,
      unknown
    >
    expect(parsed.artifactType).toBeUndefined()
    expect(parsed.config).toEqual(config)
  })
})

describe('parseManifest', () => {
  test('reads back what buildManifest wrote', () => {
    const built = buildManifest({ artifactType: 't', layers: [layer] })
    const m = parseManifest(built.bytes)
    expect(m.artifactType).toBe('t')
    expect(m.config.digest).toBe(EMPTY_CONFIG.digest)
    expect(m.layers[0]!.digest).toBe(layer.digest)
  })

  test.each([
    ['not json', /not valid JSON/],
    ['{"schemaVersion":1}', /schemaVersion/],
    [
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] }),
      /not an image manifest/,
    ],
    [JSON.stringify({ schemaVersion: 2, config: EMPTY_CONFIG }), /layers/],
    [
      JSON.stringify({ schemaVersion: 2, config: EMPTY_CONFIG, layers: [{ ...layer, digest: 'md5:x' }] }),
      /layers\[0\].*digest/,
    ],
    [JSON.stringify({ schemaVersion: 2, config: { ...EMPTY_CONFIG, size: -1 }, layers: [] }), /config.*size/],
  ])('refuses %s', (text, reason) => {
    expect(() => parseManifest(Buffer.from(text))).toThrow(reason)
  })
})

describe('readManifest', () => {
  const entry = { mediaType: MediaType.OciManifest, digest: layer.digest, size: 3 }

  test("lists an index's entries and an image manifest's config and layers as its children", () => {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [entry] }))
    expect(readManifest(index).mediaType).toBe(MediaType.OciIndex)
    expect(manifestChildren(readManifest(index, MediaType.OciIndex))).toEqual({
      manifests: [entry],
      blobs: [],
      subject: undefined,
    })
    const built = buildManifest({ artifactType: 't', layers: [layer], annotations: { a: 'b' } })
    const doc = readManifest(built.bytes, MediaType.OciManifest)
    expect(doc.annotations).toEqual({ a: 'b' })
    expect(manifestChildren(doc).blobs.map((b) => b.digest)).toEqual([EMPTY_CONFIG.digest, layer.digest])
  })

  test.each([
    [{ schemaVersion: 2, mediaType: MediaType.OciManifest, manifests: [] }, MediaType.OciIndex, /differs/],
    [{ schemaVersion: 2, manifests: [{ ...entry, size: '3' }] }, MediaType.OciIndex, /manifests\[0\].*size/],
    [{ schemaVersion: 2, manifests: [{ ...entry, annotations: { n: 1 } }] }, undefined, /map of strings/],
    [{ schemaVersion: 2 }, MediaType.OciIndex, /manifests array/],
    [{ schemaVersion: 2 }, 'application/vnd.example+json', /unsupported manifest media type/],
  ])('refuses %j as %s', (value, mediaType, reason) => {
    expect(() => readManifest(Buffer.from(JSON.stringify(value)), mediaType)).toThrow(reason)
  })
})
