import { expect, test } from '@jest/globals'
import { choosePlatform } from '../../../src/action/platform.js'

const entry = (os: string, architecture: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${os}-${architecture}`,
  size: 1,
  platform: { os, architecture },
})

test("an index's only entry is taken whatever its platform", () => {
  expect(choosePlatform([entry('windows', 'arm64')], 'linux', 'x64').digest).toBe('sha256:windows-arm64')
})

test("the runner's platform is picked in Node's names mapped to the OCI ones", () => {
  const index = [entry('linux', 'arm64'), entry('linux', 'amd64'), entry('darwin', 'arm64')]
  expect(choosePlatform(index, 'linux', 'x64').digest).toBe('sha256:linux-amd64')
  expect(choosePlatform(index, 'darwin', 'arm64').digest).toBe('sha256:darwin-arm64')
})

test('no match names what the index offers and how to choose', () => {
  expect(() => choosePlatform([entry('linux', 'arm64'), entry('linux', 's390x')], 'win32', 'x64')).toThrow(
    /none for windows\/amd64 \(offered: linux\/arm64, linux\/s390x\).*digest/,
  )
})
