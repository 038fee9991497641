import type { Descriptor } from '../oci/descriptor.js'

// Node's names for the runner's platform, in the OCI image-spec's words (GOOS/GOARCH).
const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows' }
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' }

/**
 * Picks the entry of an image index for this runner: the only entry when there is one, else the
 * one whose platform matches the runner's OS and architecture. Entries with no platform (ORAS
 * artifacts, attestations) only win when they are alone.
 */
export function choosePlatform(
  manifests: Descriptor[],
  platform: string = process.platform,
  arch: string = process.arch,
): Descriptor {
  if (manifests.length === 1) return manifests[0] as Descriptor
  const os = OS[platform] ?? platform
  const architecture = ARCH[arch] ?? arch
  const match = manifests.find((m) => m.platform?.os === os && m.platform?.architecture === architecture)
  if (match) return match
  const offered = manifests.map((m) =>
    m.platform ? `${m.platform.os}/${m.platform.architecture}` : m.digest,
  )
  throw new Error(
    `the index has ${manifests.length} entries and none for ${os}/${architecture} (offered: ${offered.join(', ')}); ` +
      `set 'tag' to the digest of the one you want`,
  )
}
