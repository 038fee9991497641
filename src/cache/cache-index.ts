import type { Descriptor } from '../oci/descriptor.js'
import { sha256Digest } from '../oci/descriptor.js'
import { InvalidManifestError, readManifest, type ManifestDocument } from '../oci/manifest.js'
import { MediaType } from '../oci/media-types.js'
import {
  CACHE_ARTIFACT_TYPE,
  CACHE_INDEX_ARTIFACT_TYPE,
  CREATED_ANNOTATION,
  KEY_ANNOTATION,
  SCOPE_ANNOTATION,
  VERSION_ANNOTATION,
} from './cache-annotations.js'

/** One saved cache as the scope's index lists it. */
export interface CacheEntry {
  key: string
  /** RFC 3339 time of the save: the newest prefix match wins. */
  created: string
  /** The cache manifest (digest and size, no annotations). */
  manifest: Descriptor
  /** cacheVersion() of the paths it was saved for */
  version?: string
}

// One GET must stay quick for a prefix lookup: an entry is ~300 bytes for a typical key and
// ~900 for a 512-character one, so 500 entries keep the index under half a megabyte, far below
// the 4 MiB manifest size registries are asked to accept. Older caches drop out of the index
// only: their tags stay, and an exact lookup still finds them.
export const MAX_INDEX_ENTRIES = 500

export class CacheIndexError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`cache index: ${reason}`, options)
    this.name = 'CacheIndexError'
  }
}

/** The index's entries, oldest first. Entries that are not ours or are malformed are left out. */
export function parseCacheIndex(bytes: Buffer): CacheEntry[] {
  let index: ManifestDocument
  try {
    index = readManifest(bytes, MediaType.OciIndex)
  } catch (error) {
    if (error instanceof InvalidManifestError) throw new CacheIndexError(error.reason, { cause: error })
    throw error
  }
  const entries: CacheEntry[] = []
  for (const item of index.manifests) {
    const entry = entryOf(item)
    if (entry) entries.push(entry)
  }
  return sortOldestFirst(entries)
}

/** The index bytes for a scope: an OCI image index whose entries carry each cache's key and time. */
export function buildCacheIndex(
  scope: string,
  entries: CacheEntry[],
): { bytes: Buffer; mediaType: string; digest: string } {
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    artifactType: CACHE_INDEX_ARTIFACT_TYPE,
    manifests: entries.map((e) => ({
      mediaType: e.manifest.mediaType,
      artifactType: CACHE_ARTIFACT_TYPE,
      digest: e.manifest.digest,
      size: e.manifest.size,
      annotations: {
        [CREATED_ANNOTATION]: e.created,
        [KEY_ANNOTATION]: e.key,
        ...(e.version === undefined ? {} : { [VERSION_ANNOTATION]: e.version }),
      },
    })),
    annotations: { [SCOPE_ANNOTATION]: scope },
  }
  const bytes = Buffer.from(JSON.stringify(index), 'utf8')
  return { bytes, mediaType: MediaType.OciIndex, digest: sha256Digest(bytes) }
}

/**
 * The union of entry lists, one entry per key (the newest save of it), oldest first, capped at
 * `limit` by dropping the oldest. Merging is what lets two saves that raced both survive.
 */
export function mergeEntries(lists: CacheEntry[][], limit = MAX_INDEX_ENTRIES): CacheEntry[] {
  const byKey = new Map<string, CacheEntry>()
  for (const list of lists) {
    for (const entry of list) {
      const known = byKey.get(entry.key)
      if (!known || time(entry) >= time(known)) {
        byKey.delete(entry.key)
        byKey.set(entry.key, entry)
      }
    }
  }
  return sortOldestFirst([...byKey.values()]).slice(-limit)
}

/**
 * True when `have` needs nothing from `want`: each key is listed with the same manifest or with
 * a save at least as new, which the merge would keep over ours anyway (two saves of one key race:
 * the newer is the one to restore, and the older has nothing to add).
 */
export function coversEntries(have: CacheEntry[], want: CacheEntry[]): boolean {
  const byKey = new Map(have.map((e) => [e.key, e]))
  return want.every((e) => {
    const listed = byKey.get(e.key)
    return listed !== undefined && (listed.manifest.digest === e.manifest.digest || time(listed) >= time(e))
  })
}

/**
 * actions/cache's restore-keys rule: prefixes are tried in order, and the first that matches
 * any key picks the newest cache among its matches.
 */
export function findNewestMatch(
  entries: CacheEntry[],
  prefixes: string[],
  version?: string,
): CacheEntry | undefined {
  // a cache saved for other paths is not one of these paths' caches (actions/cache's version)
  const candidates = version === undefined ? entries : entries.filter((e) => e.version === version)
  for (const prefix of prefixes) {
    let best: CacheEntry | undefined
    // entries are oldest first, so on equal times the later one (saved after) wins
    for (const entry of candidates) {
      if (entry.key.startsWith(prefix) && (!best || time(entry) >= time(best))) best = entry
    }
    if (best) return best
  }
  return undefined
}

// Stable: entries saved within the same millisecond keep the order the index had them in.
function sortOldestFirst(entries: CacheEntry[]): CacheEntry[] {
  return entries
    .map((entry, position) => ({ entry, position, at: time(entry) }))
    .sort((a, b) => a.at - b.at || a.position - b.position)
    .map((x) => x.entry)
}

// An unreadable time sorts as the oldest rather than hiding the entry.
function time(entry: CacheEntry): number {
  const at = Date.parse(entry.created)
  return Number.isNaN(at) ? 0 : at
}

// An entry is ours when it carries the key and the time of its save.
function entryOf(item: Descriptor): CacheEntry | undefined {
  const notes = item.annotations ?? {}
  const key = notes[KEY_ANNOTATION]
  const created = notes[CREATED_ANNOTATION]
  const version = notes[VERSION_ANNOTATION]
  if (key === undefined || created === undefined) return undefined
  const entry: CacheEntry = {
    key,
    created,
    manifest: { mediaType: item.mediaType, digest: item.digest, size: item.size },
  }
  if (version !== undefined) entry.version = version
  return entry
}
