import { expect, test } from '@jest/globals'
import { choosePlatform, runnerPlatform } from '../../../../src/action/layers/platform.js'
import { parsePlatform } from '../../../../src/oci/platform.js'

const entry = (os: string, architecture: string, variant?: string) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${[os, architecture, variant].filter(Boolean).join('-')}`,
  size: 1,
  platform: variant ? { os, architecture, variant } : { os, architecture },
})

test("with no platform named, an index's only entry is taken whatever its platform", () => {
  expect(choosePlatform([entry('windows', 'arm64')], undefined, runnerPlatform('linux', 'x64')).digest).toBe(
    'sha256:windows-arm64',
  )
})

test("the runner's platform is picked in Node's names mapped to the OCI ones", () => {
  const index = [entry('linux', 'arm64'), entry('linux', 'amd64'), entry('darwin', 'arm64')]
  expect(choosePlatform(index, undefined, runnerPlatform('linux', 'x64')).digest).toBe('sha256:linux-amd64')
  expect(choosePlatform(index, undefined, runnerPlatform('darwin', 'arm64')).digest).toBe(
    'sha256:darwin-arm64',
  )
})

test('a named platform wins over the runner, and an exact variant over another', () => {
  const index = [entry('linux', 'amd64'), entry('linux', 'arm', 'v6'), entry('linux', 'arm', 'v7')]
  const runner = runnerPlatform('linux', 'x64')
  expect(choosePlatform(index, parsePlatform('linux/arm/v7'), runner).digest).toBe('sha256:linux-arm-v7')
  expect(choosePlatform(index, parsePlatform('linux/arm'), runner).digest).toBe('sha256:linux-arm-v6')
})

test('a named platform is not replaced by a lone entry of another', () => {
  expect(() => choosePlatform([entry('windows', 'arm64')], parsePlatform('linux/amd64'))).toThrow(
    /no entry for linux\/amd64; it has 1: windows\/arm64/,
  )
})

test('no match names what the index offers and how to choose', () => {
  expect(() =>
    choosePlatform(
      [entry('linux', 'arm64'), entry('linux', 's390x')],
      undefined,
      runnerPlatform('win32', 'x64'),
    ),
  ).toThrow(
    /no entry for windows\/amd64 \(the runner's platform\); it has 2: linux\/arm64, linux\/s390x.*'platform'/,
  )
})
