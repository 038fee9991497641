import { expect, test } from '@jest/globals'
import { curlLine } from '../../../src/action/summary.js'

const digest = `sha256:${'a'.repeat(64)}`
const get = `curl -sL -H "Authorization: Bearer $token" https://ghcr.io/v2/acme/tool/blobs/${digest}`

test('a directory layer is piped to tar, a file layer saved under its title', () => {
  const ours = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1 }
  expect(curlLine('acme/tool', { ...ours, annotations: { 'org.opencontainers.image.title': 'dist' } })).toBe(
    `${get} | tar -xz`,
  )
  // ORAS stores a file with the plain tar media type but no unpack annotation: the blob is the file
  const file = {
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    digest,
    size: 1,
    annotations: { 'org.opencontainers.image.title': "tool's.exe" },
  }
  expect(curlLine('acme/tool', file)).toBe(`${get} -o 'tool'\\''s.exe'`)
  const unpack = { ...file, annotations: { ...file.annotations, 'io.deis.oras.content.unpack': 'true' } }
  expect(curlLine('acme/tool', unpack)).toBe(`${get} | tar -x`)
  expect(curlLine('acme/tool', { ...unpack, mediaType: `${file.mediaType}+gzip` })).toBe(`${get} | tar -xz`)
})
