import type { Descriptor, Platform } from '../../oci/descriptor.js'
import { formatPlatform, platformMatches } from '../../oci/platform.js'

// The annotation by which a platform push's manifest says which platform it is for. An image
// manifest has no platform field (only an index's descriptor does), and the index is rebuilt from
// the platform tags, so each tagged manifest must carry its own.
export const PLATFORM_ANNOTATION = 'io.github.oci-artifact-action.platform'

// Node's names for the runner's platform, in the OCI image-spec's words (GOOS/GOARCH).
const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' }
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' }

/** The runner's platform in OCI words: `process.platform`/`process.arch` mapped to GOOS/GOARCH. */
export function runnerPlatform(platform: string = process.platform, arch: string = process.arch): Platform {
  return { os: OS[platform] ?? platform, architecture: ARCH[arch] ?? arch }
}

/**
 * Picks the entry of an image index: the one for `wanted` when the `platform` input names one
 * (an exact variant first); else the only entry when there is one, else the runner's. Entries
 * with no platform (ORAS artifacts, attestations) only win when they are alone and none was named.
 */
export function choosePlatform(
  manifests: Descriptor[],
  wanted: Platform | undefined,
  runner: Platform = runnerPlatform(),
  reference = 'the index',
): Descriptor {
  if (!wanted && manifests.length === 1) return manifests[0] as Descriptor
  const want = wanted ?? runner
  const matches = manifests.filter((m) => platformMatches(m.platform, want))
  const match = matches.find((m) => m.platform?.variant === want.variant) ?? matches[0]
  if (match) return match
  const offered = manifests.map((m) => (m.platform ? formatPlatform(m.platform) : m.digest))
  throw new Error(
    `${reference} has no entry for ${formatPlatform(want)}${wanted ? '' : " (the runner's platform)"}; ` +
      `it has ${manifests.length}: ${offered.join(', ')}. Set 'platform' to one of them, or 'tag' to a digest`,
  )
}
