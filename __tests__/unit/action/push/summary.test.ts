import { describe, expect, test } from '@jest/globals'
import { curlLine, pushSummary } from '../../../../src/action/push/summary.js'

const digest = `sha256:${'a'.repeat(64)}`
const get = `curl -sL -H "Authorization: Bearer $token" https://ghcr.io/v2/acme/tool/blobs/${digest}`

const base = {
  digest: `sha256:${'1'.repeat(64)}`,
  ref: `ghcr.io/acme/tool@sha256:${'1'.repeat(64)}`,
  tags: ['v1'],
  size: 100,
  uploaded: 100,
  seconds: 1,
}
const fileLayer = (title: string, d: string) => ({
  mediaType: 'application/vnd.oci.image.layer.v1.tar',
  digest: d,
  size: 10,
  annotations: { 'org.opencontainers.image.title': title },
})

test('a directory layer is piped to tar, a file layer saved under its title', () => {
  const ours = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1 }
  expect(curlLine('acme/tool', { ...ours, annotations: { 'org.opencontainers.image.title': 'dist' } })).toBe(
    `${get} | tar -xz`,
  )
  // ORAS stores a file with the plain tar media type but no unpack annotation: the blob is the file
  const file = fileLayer("tool's.exe", digest)
  expect(curlLine('acme/tool', file)).toBe(`${get} -o 'tool'\\''s.exe'`)
  const unpack = { ...file, annotations: { ...file.annotations, 'io.deis.oras.content.unpack': 'true' } }
  expect(curlLine('acme/tool', unpack)).toBe(`${get} | tar -x`)
  expect(curlLine('acme/tool', { ...unpack, mediaType: `${file.mediaType}+gzip` })).toBe(`${get} | tar -xz`)
})

describe('the push summary', () => {
  test('gives a curl line per file layer, saving it under its title', () => {
    const text = pushSummary(
      {
        ...base,
        layers: [
          fileLayer('tool-linux-amd64', `sha256:${'a'.repeat(64)}`),
          fileLayer("it's here.txt", `sha256:${'b'.repeat(64)}`),
        ],
      },
      { registry: 'ghcr.io', repository: 'acme/tool' },
    )
    expect(text).toContain(
      `https://ghcr.io/v2/acme/tool/blobs/sha256:${'a'.repeat(64)} -o tool-linux-amd64\n`,
    )
    expect(text).toContain(`blobs/sha256:${'b'.repeat(64)} -o 'it'\\''s here.txt'\n`)
    expect(text).not.toContain('tar -xz')
  })

  test('a directory layer is one curl piped into tar', () => {
    const layer = {
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: `sha256:${'c'.repeat(64)}`,
      size: 1,
    }
    const text = pushSummary({ ...base, layers: [layer] }, { registry: 'ghcr.io', repository: 'acme/tool' })
    expect(text).toContain(`blobs/sha256:${'c'.repeat(64)} | tar -xz\n`)
    expect(text).not.toContain(' -o ')
  })
})
