import type { Descriptor, Platform } from './descriptor.js'
import { buildPlatformIndex, platformEntriesOf, sameEntries, type PlatformEntry } from './index-merge.js'
import { forEachLimited } from './layout/for-each-limited.js'
import type { Logger } from './logger.js'
import { InvalidManifestError, parseManifest, type BuiltManifest } from './manifest.js'
import { isIndexMediaType, MediaType } from './media-types.js'
import { formatPlatform, InvalidPlatformError, parsePlatform, platformTag } from './platform.js'

/** What publishing into a platform index needs of a repository (Repository has it all). */
export interface PlatformRegistry {
  listTags(): Promise<string[]>
  headManifest(tagOrDigest: string): Promise<Descriptor | undefined>
  getManifest(tagOrDigest: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }>
  putManifest(bytes: Buffer, mediaType: string, tagOrDigest: string): Promise<string>
}

export interface PublishedIndex {
  /** The index the tag held when this push last confirmed it. */
  index: Descriptor
  entries: PlatformEntry[]
  /** Index writes this push made before the tag held what the platform tags say. */
  rounds: number
}

export interface PlatformPublishOptions {
  logger: Logger
  /**
   * The annotation by which a platform manifest says which platform it is for (the caller's own
   * key): an image manifest has no platform field, and the index is rebuilt from the platform tags.
   */
  platformKey: string
  /** The index's own annotations (provenance). Not compared: only entries decide convergence. */
  annotations?: Record<string, string>
  sleep?: (ms: number) => Promise<void>
  /** Write-and-check rounds before giving up; each failed round means someone changed the tag. */
  attempts?: number
}

// Every failed round needs another writer's change in between; with N matrix jobs that is at most
// about 2N changes after the last platform tag lands, so 12 rounds cover a dozen-platform matrix.
const DEFAULT_ATTEMPTS = 12
// The wait before the check, about one write's time plus jitter: long enough for a writer that
// read just before ours to land, short enough not to slow a push that raced nobody.
const MAX_SETTLE_MS = 2000
// HEADs in flight while the platform tags are read.
const CONCURRENCY = 8

/**
 * Tags `manifest` as `tag`'s platform tag, then makes `tag` an index of every platform tag.
 *
 * The distribution API has no conditional write, so the index is never merged from the index a
 * job read (a job that read it before another's write drops that entry). Instead it is rebuilt,
 * deterministically, from the platform tags, which each job writes for its own platform only and
 * which therefore never race. After each index write the job re-reads both the platform tags and
 * the index; it stops only when the index lists exactly what the platform tags say, read after
 * its own last write. Why none is lost: take the last index write of all, by job X, and any job Z
 * that stopped. Z's platform tag was written before Z's check, which saw Z in the index, so X's
 * write came later; X's own check, after that write, lists Z's platform tag; had X's index lacked
 * Z, X would not have stopped but written again, and its write would not be the last. So the
 * final index holds every job that succeeded. Once all platform tags are in, every writer builds
 * the same entries, so the race ends.
 */
export async function publishPlatformIndex(
  registry: PlatformRegistry,
  tag: string,
  platform: Platform,
  manifest: BuiltManifest,
  o: PlatformPublishOptions,
): Promise<PublishedIndex> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const attempts = o.attempts ?? DEFAULT_ATTEMPTS
  const ownTag = platformTag(tag, platform)
  await registry.putManifest(manifest.bytes, manifest.mediaType, ownTag)
  o.logger.info(`Tagged ${ownTag} -> ${manifest.digest}`)

  const known: ManifestFacts = new Map([[manifest.digest, manifestFacts(manifest.bytes, o.platformKey)]])
  let entries = await readPlatformTags(registry, tag, o.platformKey, known)
  for (let round = 1; ; round++) {
    const started = Date.now()
    const index = buildPlatformIndex(entries, o.annotations)
    await registry.putManifest(index.bytes, index.mediaType, tag)
    const took = Date.now() - started
    await sleep(Math.min(MAX_SETTLE_MS, took + Math.random() * (took + 10 * round)))

    const [after, current] = await Promise.all([
      readPlatformTags(registry, tag, o.platformKey, known),
      registry.getManifest(tag),
    ])
    const listed = isIndexMediaType(current.mediaType) ? platformEntriesOf(current.bytes) : []
    // a tag list that does not show our own tag yet is a stale read (a lagging replica): read again
    if (after.some((e) => e.tag === ownTag) && sameEntries(listed, after)) {
      const mine = listed.find((e) => e.tag === ownTag)
      if (mine?.manifest.digest !== manifest.digest) {
        o.logger.warning(
          `${ownTag} now holds ${mine?.manifest.digest ?? 'nothing'}: another push of ${formatPlatform(platform)} ` +
            `to ${tag} ran at the same time and landed after this one`,
        )
      }
      const names = listed.map((e) => formatPlatform(e.platform)).join(', ')
      o.logger.info(`Tagged ${tag} -> ${current.digest}: an index of ${listed.length} (${names})`)
      return {
        index: { mediaType: current.mediaType, digest: current.digest, size: current.bytes.length },
        entries: listed,
        rounds: round,
      }
    }
    if (round >= attempts) {
      throw new Error(
        `the index at ${tag} kept changing under other pushes (${round} rounds); this platform's ` +
          `manifest is in place as ${ownTag}, and a re-run rebuilds the index from every platform tag`,
      )
    }
    o.logger.info(`${tag} changed under another push: rebuilding its index from the platform tags`)
    entries = after
  }
}

/** What a platform manifest says of itself, read once per digest. */
export type ManifestFacts = Map<string, { platform?: Platform; artifactType?: string }>

/**
 * The platform tags of `tag`: tags `<tag>-<os>-<arch>[-<variant>]` whose manifest says it is for
 * exactly that platform. The annotation check keeps out the tags of a longer tag (`v1-rc` with its
 * `v1-rc-linux-amd64` is not a platform of `v1`) and anything tagged by hand.
 */
export async function readPlatformTags(
  registry: PlatformRegistry,
  tag: string,
  platformKey: string,
  facts: ManifestFacts = new Map(),
): Promise<PlatformEntry[]> {
  const prefix = `${tag}-`
  const candidates = (await registry.listTags()).filter(
    (t) => t.startsWith(prefix) && /^[a-z0-9_]+-[a-z0-9_]+(-[a-z0-9_]+)?$/.test(t.slice(prefix.length)),
  )
  const found: (PlatformEntry | undefined)[] = new Array(candidates.length)
  await forEachLimited(candidates, CONCURRENCY, async (candidate, i) => {
    const head = await registry.headManifest(candidate)
    if (!head || isIndexMediaType(head.mediaType)) return
    let fact = facts.get(head.digest)
    if (!fact) {
      fact = manifestFacts((await registry.getManifest(head.digest)).bytes, platformKey)
      facts.set(head.digest, fact)
    }
    if (fact.platform && platformTag(tag, fact.platform) === candidate) {
      const manifest: Descriptor = { mediaType: head.mediaType, digest: head.digest, size: head.size }
      if (fact.artifactType) manifest.artifactType = fact.artifactType
      found[i] = { platform: fact.platform, tag: candidate, manifest }
    }
  })
  return found.filter((e): e is PlatformEntry => e !== undefined)
}

/** The platform annotation and artifactType of a manifest's bytes; nothing for other documents. */
export function manifestFacts(
  bytes: Buffer,
  platformKey: string,
): { platform?: Platform; artifactType?: string } {
  try {
    const m = parseManifest(bytes)
    if (m.mediaType !== MediaType.OciManifest) return {}
    const note = m.annotations?.[platformKey]
    return { platform: note ? parsePlatform(note) : undefined, artifactType: m.artifactType }
  } catch (error) {
    if (error instanceof InvalidManifestError || error instanceof InvalidPlatformError) return {}
    throw error
  }
}
