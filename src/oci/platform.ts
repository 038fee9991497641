import type { Descriptor, Platform } from './descriptor.js'

// The OCI platform words (image-spec image-index.md: GOOS/GOARCH and a variant such as v7 or v8).
const WORD = /^[a-z0-9_]{1,32}$/

export class InvalidPlatformError extends Error {
  constructor(readonly input: string) {
    super(`'${input}' is not a platform like linux/amd64, darwin/arm64 or linux/arm/v7 (os/arch[/variant])`)
    this.name = 'InvalidPlatformError'
  }
}

/** `os/arch[/variant]` as in `docker --platform` and `oras --platform`, lowercase OCI words. */
export function parsePlatform(input: string): Platform {
  const parts = input.trim().split('/')
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => WORD.test(p))) {
    throw new InvalidPlatformError(input)
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined]
  return variant ? { os, architecture, variant } : { os, architecture }
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/')
}

/**
 * The tag that holds one platform's manifest of `tag`: `v1.4.0-linux-amd64`, `v1.4.0-linux-arm-v7`.
 * These tags are what the index is rebuilt from, and each is written by its own platform's job
 * only, so concurrent jobs never overwrite each other's. They also serve clients that do not read
 * indexes (a plain curl of the manifest).
 */
export function platformTag(tag: string, p: Platform): string {
  return `${tag}-${formatPlatform(p).replaceAll('/', '-')}`
}

/** The longest suffix platformTag adds, so a tag input can be checked before any network work. */
export function platformTagSuffixLength(p: Platform): number {
  return platformTag('', p).length
}

/** Same os and architecture; the variant must match only when both name one. */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false
  return !want.variant || !have.variant || have.variant === want.variant
}

/** Sorts platforms as `os/arch/variant` strings, the order index entries are written in. */
export function comparePlatforms(a: Platform, b: Platform): number {
  const x = formatPlatform(a)
  const y = formatPlatform(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/**
 * The folder a platform's files land in when a pull takes every platform: `linux-amd64`,
 * `linux-arm-v7`, as its platform tag ends. Platform words are [a-z0-9_], so it is a plain name.
 */
export function platformFolder(p: Platform): string {
  return formatPlatform(p).replaceAll('/', '-')
}

// BuildKit lists a provenance or SBOM manifest for each image as an entry of `unknown/unknown`
// marked with this annotation: an attachment of another entry, not a platform's artifact.
const REFERENCE_TYPE_ANNOTATION = 'vnd.docker.reference.type'

/** One platform's entry of an index, and the folder it lands in. */
export interface PlatformEntry {
  entry: Descriptor
  platform: Platform
  folder: string
}

/**
 * Every platform's entry of an index, sorted by folder, for a pull that takes them all. Entries
 * that attach to another (attestations) are left out; an entry with no platform, or two that would
 * land in one folder, are refused, naming them: guessing a folder would hide content.
 */
export function platformEntries(manifests: readonly Descriptor[], reference: string): PlatformEntry[] {
  const entries: PlatformEntry[] = []
  const byFolder = new Map<string, Descriptor>()
  for (const entry of manifests) {
    if (entry.annotations?.[REFERENCE_TYPE_ANNOTATION]) continue
    if (!entry.platform)
      throw new Error(`${reference} lists ${entry.digest} with no platform: cannot name its folder`)
    const folder = platformFolder(entry.platform)
    const earlier = byFolder.get(folder)
    if (earlier) {
      throw new Error(
        `${reference} lists two manifests for ${formatPlatform(entry.platform)} (${earlier.digest}, ${entry.digest}): ` +
          `both would land in ${folder}/`,
      )
    }
    byFolder.set(folder, entry)
    entries.push({ entry, platform: entry.platform, folder })
  }
  if (entries.length === 0) throw new Error(`${reference} lists no platform's manifest`)
  return entries.sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0))
}
