import { describe, expect, test } from '@jest/globals'
import type { Descriptor } from '../../../src/oci/descriptor.js'
import { platformEntries, platformFolder } from '../../../src/oci/platform.js'

const entry = (digest: string, platform?: Descriptor['platform'], annotations?: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${digest.repeat(64)}`,
  size: 1,
  ...(platform ? { platform } : {}),
  ...(annotations ? { annotations } : {}),
})

describe('platform: all', () => {
  test('folders are named as platform tags end', () => {
    expect(platformFolder({ os: 'linux', architecture: 'amd64' })).toBe('linux-amd64')
    expect(platformFolder({ os: 'linux', architecture: 'arm', variant: 'v7' })).toBe('linux-arm-v7')
  })

  test('every platform entry, sorted by folder; attestations left out', () => {
    const got = platformEntries(
      [
        entry('a', { os: 'linux', architecture: 'arm', variant: 'v7' }),
        entry('b', { os: 'darwin', architecture: 'arm64' }),
        entry(
          'c',
          { os: 'unknown', architecture: 'unknown' },
          { 'vnd.docker.reference.type': 'attestation-manifest' },
        ),
        entry('d', { os: 'linux', architecture: 'amd64' }),
      ],
      'v1',
    )
    expect(got.map((e) => e.folder)).toEqual(['darwin-arm64', 'linux-amd64', 'linux-arm-v7'])
    expect(got[0]?.entry.digest).toBe(`sha256:${'b'.repeat(64)}`)
  })

  test('an entry without a platform, two for one folder, or none at all are refused naming them', () => {
    expect(() => platformEntries([entry('a')], 'v1')).toThrow(/v1 lists sha256:a+ with no platform/)
    const amd64 = { os: 'linux', architecture: 'amd64' }
    expect(() => platformEntries([entry('a', amd64), entry('b', amd64)], 'v1')).toThrow(
      /v1 lists two manifests for linux\/amd64 .*both would land in linux-amd64\//,
    )
    expect(() => platformEntries([], 'v1')).toThrow("v1 lists no platform's manifest")
  })
})
