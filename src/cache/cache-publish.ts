import { RegistryError } from '../oci/errors.js'
import { forEachLimited } from '../oci/layout/for-each-limited.js'
import type { Logger } from '../oci/logger.js'
import { buildCacheIndex, coversEntries, mergeEntries, type CacheEntry } from './cache-index.js'
import { readIndex, type CacheRegistry } from './cache-lookup.js'
import { buildCacheManifest, type CacheManifestFields } from './cache-manifest.js'
import { cacheTag, indexTag } from './cache-tag.js'

export interface PublishedCache {
  tag: string
  digest: string
  /** False when the index could not be updated: exact lookups find the cache, prefix lookups not. */
  indexed: boolean
}

// HEADs in flight when an index must be checked against the repository entry by entry.
const CHECK_CONCURRENCY = 8

/**
 * Tags the cache manifest (its blobs must be in the repository already), then lists it in the
 * scope's index. The tag alone makes the save good: an index that cannot be updated costs only
 * prefix lookups, so that failure is a warning, not a failed save.
 */
export async function publishCache(
  registry: CacheRegistry,
  fields: CacheManifestFields,
  logger: Logger,
  o: PublishOptions = {},
): Promise<PublishedCache> {
  const manifest = buildCacheManifest(fields)
  const tag = cacheTag(fields.scope, fields.key, fields.version)
  await registry.putManifest(manifest.bytes, manifest.mediaType, tag)
  const entry: CacheEntry = {
    key: fields.key,
    created: fields.created,
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length },
    ...(fields.version === undefined ? {} : { version: fields.version }),
  }
  try {
    await addToIndex(registry, fields.scope, entry, logger, o)
    return { tag, digest: manifest.digest, indexed: true }
  } catch (error) {
    logger.warning(
      `Saved the cache as ${tag}, but could not list it in the index of ${fields.scope}, so restore-keys ` +
        `will not find it (the exact key will): ${(error as Error).message}`,
    )
    return { tag, digest: manifest.digest, indexed: false }
  }
}

export interface PublishOptions {
  /** How the wait before checking the index is spent; tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>
}

// Rounds of write-then-check before the index update is given up (the save itself stands).
const INDEX_ATTEMPTS = 5
// Checks, each after a wait, that must all find our entry before the index counts as updated.
const CONFIRMATIONS = 2
// The longest wait for other writers to land, whatever the registry's latency: the wait is paid
// by every save, at the end of the job.
const MAX_SETTLE_MS = 1000

/**
 * Read, merge, write, check. The distribution API has no conditional PUT: a job that read the
 * index before our write and writes after it drops our entry. So after each write we wait about
 * as long as a write takes (plus jitter, so racing jobs spread out) and re-read, twice: a write
 * that was under way at the first check has landed by the second. If our entry is gone, we merge
 * what is there with what we wrote and write again. Matrix jobs that finish together converge on
 * the union; an entry can still be lost to a write that lands after every check of it, which
 * costs a restore-keys match, never the cache (its tag stays).
 */
export async function addToIndex(
  registry: CacheRegistry,
  scope: string,
  entry: CacheEntry,
  logger: Logger,
  o: PublishOptions = {},
): Promise<void> {
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  let known = (await readIndex(registry, scope, logger)).entries
  // listed already, or a newer save of the same key is (the one restored): nothing to add
  if (coversEntries(known, [entry])) return
  for (let attempt = 1; ; attempt++) {
    const started = Date.now()
    const written = await putIndex(registry, scope, mergeEntries([known, [entry]]), logger)
    const took = Date.now() - started
    // a job that read the index just before our write lands its own about one write later
    const settle = () => sleep(Math.min(MAX_SETTLE_MS, 2 * took + Math.random() * (took + 20 * attempt)))
    let after: CacheEntry[] = []
    let seen = 0
    for (let check = 0; check < CONFIRMATIONS; check++) {
      await settle()
      after = (await readIndex(registry, scope, logger)).entries
      if (!coversEntries(after, [entry])) break
      seen++
    }
    if (seen === CONFIRMATIONS) return
    if (attempt >= INDEX_ATTEMPTS)
      throw new Error(`other saves kept replacing the index (${attempt} attempts)`)
    logger.info(`The cache index of ${scope} was replaced by another save: merging and writing it again`)
    // what we wrote holds entries the other writer may have dropped in the same way: keep them too
    known = mergeEntries([after, written.entries])
  }
}

async function putIndex(
  registry: CacheRegistry,
  scope: string,
  entries: CacheEntry[],
  logger: Logger,
): Promise<{ digest: string; entries: CacheEntry[] }> {
  const tag = indexTag(scope)
  const built = buildCacheIndex(scope, entries)
  try {
    await registry.putManifest(built.bytes, built.mediaType, tag)
    return { digest: built.digest, entries }
  } catch (error) {
    if (!mayListDeletedManifests(error)) throw error
    // An index may only list manifests the repository holds: someone deleted caches by hand.
    const kept = await keepExisting(registry, entries)
    if (kept.length === entries.length) throw error
    logger.info(`Dropping ${entries.length - kept.length} deleted cache(s) from the index of ${scope}`)
    const rebuilt = buildCacheIndex(scope, kept)
    await registry.putManifest(rebuilt.bytes, rebuilt.mediaType, tag)
    return { digest: rebuilt.digest, entries: kept }
  }
}

// Distribution refuses an index naming an unknown manifest with 400 MANIFEST_BLOB_UNKNOWN; other
// registries word it differently, so any refusal of the content (not of the credentials) is checked.
function mayListDeletedManifests(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false
  return error.status >= 400 && error.status < 500 && ![401, 403, 429].includes(error.status)
}

async function keepExisting(registry: CacheRegistry, entries: CacheEntry[]): Promise<CacheEntry[]> {
  const exists = new Array<boolean>(entries.length).fill(true)
  await forEachLimited(entries, CHECK_CONCURRENCY, async (entry, i) => {
    exists[i] = (await registry.headManifest(entry.manifest.digest)) !== undefined
  })
  return entries.filter((_, i) => exists[i])
}
