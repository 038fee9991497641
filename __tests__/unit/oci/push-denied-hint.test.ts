import { expect, test } from '@jest/globals'
import { hintFor } from '../../../src/oci/errors.js'

test('a refused read inside a push names the push permission, on ghcr.io and elsewhere', () => {
  const ghcr = hintFor('HEAD', 'https://ghcr.io/v2/o/n/blobs/sha256:x', 403, [], true)
  expect(ghcr).toContain('permissions: packages: write')
  expect(ghcr).toContain('Manage Actions access')
  expect(hintFor('HEAD', 'http://127.0.0.1:5000/v2/o/n/blobs/sha256:x', 401, [], true)).toContain('may push')
})

test('a refused read of a pull names the read permission on ghcr.io', () => {
  const hint = hintFor('GET', 'https://ghcr.io/v2/o/n/manifests/v1', 401, [], false)
  expect(hint).toContain('packages: read')
  expect(hint).not.toContain('packages: write')
})
