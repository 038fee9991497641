import { Annotation } from './annotations.js'
import type { Descriptor, Platform } from './descriptor.js'
import { sha256Digest } from './descriptor.js'
import { InvalidManifestError, readManifest, type BuiltManifest } from './manifest.js'
import { MediaType } from './media-types.js'
import { comparePlatforms, formatPlatform, parsePlatform } from './platform.js'

/** One platform's manifest as a platform index lists it. */
export interface PlatformEntry {
  platform: Platform
  /** The platform tag that holds it (`v1.4.0-linux-amd64`), the entry's ref.name. */
  tag: string
  manifest: Descriptor
}

/**
 * The index of a tag: one entry per platform, sorted, so that every job that sees the same
 * platform tags writes the same entries whatever order it found them in. That determinism is what
 * makes racing writers converge (see platform-publish.ts). ref.name per entry follows Homebrew's
 * bottles (`<version>.<bottle tag>` there, the platform tag here).
 */
export function buildPlatformIndex(
  entries: PlatformEntry[],
  annotations: Record<string, string> = {},
): BuiltManifest {
  const manifests = onePerPlatform(entries).map((e) => {
    const d: Record<string, unknown> = { mediaType: e.manifest.mediaType }
    if (e.manifest.artifactType) d.artifactType = e.manifest.artifactType
    d.digest = e.manifest.digest
    d.size = e.manifest.size
    d.annotations = { [Annotation.RefName]: e.tag }
    d.platform = canonicalPlatform(e.platform)
    return d
  })
  const index: Record<string, unknown> = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }
  const keys = Object.keys(annotations).sort()
  if (keys.length > 0) index.annotations = Object.fromEntries(keys.map((k) => [k, annotations[k]]))
  const bytes = Buffer.from(JSON.stringify(index), 'utf8')
  return { bytes, mediaType: MediaType.OciIndex, digest: sha256Digest(bytes) }
}

/** The platform entries of an index's bytes; entries without a platform are left out. */
export function platformEntriesOf(bytes: Buffer): PlatformEntry[] {
  let manifests: Descriptor[]
  try {
    manifests = readManifest(bytes).manifests
  } catch (error) {
    // what is not an index we can read lists no platform: the index is rebuilt from the platform tags
    if (error instanceof InvalidManifestError) return []
    throw error
  }
  const entries: PlatformEntry[] = []
  for (const item of manifests) {
    if (!item.platform) continue
    let platform: Platform
    try {
      platform = parsePlatform(formatPlatform(item.platform))
    } catch {
      continue
    }
    const tag = item.annotations?.[Annotation.RefName] ?? ''
    entries.push({ platform, tag, manifest: item })
  }
  return entries
}

/** True when both list the same manifest for the same platforms, and nothing else. */
export function sameEntries(a: PlatformEntry[], b: PlatformEntry[]): boolean {
  const key = (list: PlatformEntry[]) =>
    onePerPlatform(list)
      .map((e) => `${formatPlatform(e.platform)}=${e.manifest.digest}`)
      .join(',')
  return key(a) === key(b)
}

// The same platform twice (two tags that name it, e.g. linux/arm and linux/arm/v7 are distinct and
// both kept) cannot happen from platformTag, but a sorted, de-duplicated list is the invariant.
function onePerPlatform(entries: PlatformEntry[]): PlatformEntry[] {
  const byPlatform = new Map<string, PlatformEntry>()
  for (const e of entries) byPlatform.set(formatPlatform(e.platform), e)
  return [...byPlatform.values()].sort((x, y) => comparePlatforms(x.platform, y.platform))
}

function canonicalPlatform(p: Platform): Platform {
  return p.variant
    ? { architecture: p.architecture, os: p.os, variant: p.variant }
    : { architecture: p.architecture, os: p.os }
}
