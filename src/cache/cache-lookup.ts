import type { Descriptor } from '../oci/descriptor.js'
import { RegistryError } from '../oci/errors.js'
import type { Logger } from '../oci/logger.js'
import type { Repository } from '../oci/repository.js'
import { CacheIndexError, findNewestMatch, parseCacheIndex, type CacheEntry } from './cache-index.js'
import { InvalidManifestError } from '../oci/manifest.js'
import { cacheContentsOf, cacheLayersOf, NotACacheError, type CacheContents } from './cache-manifest.js'
import { cacheTag, indexTag } from './cache-tag.js'

/** The manifest operations cache lookups and saves need: a Repository, or a fake in unit tests. */
export type CacheRegistry = Pick<Repository, 'getManifest' | 'putManifest' | 'headManifest'>

export interface CacheQuery {
  /** Restore scopes, most trusted match first (see scope.ts) */
  scopes: string[]
  key: string
  /** Prefixes tried in order after the key itself */
  restoreKeys: string[]
  /** cacheVersion() of the paths: only caches saved for the same paths match */
  version?: string
}

export interface CacheMatch {
  /** The saved key that matched */
  key: string
  scope: string
  /** key === the key asked for: actions/cache's cache-hit */
  exact: boolean
  /** The manifest's tag or digest */
  reference: string
  /** The manifest bytes, when the lookup already fetched them */
  manifest?: Buffer
}

export interface IndexState {
  entries: CacheEntry[]
  /** Digest of the index as read; undefined when the scope has none yet */
  digest?: string
}

/**
 * actions/cache's search, scope by scope: the exact key, then the key as a prefix, then each
 * restore key as a prefix (the newest match wins); only then the next scope. Exact lookups are one
 * GET per scope, all sent at once; prefix lookups one GET of each scope's index, all at once.
 */
export async function findCache(
  registry: CacheRegistry,
  query: CacheQuery,
  logger: Logger,
): Promise<CacheMatch | undefined> {
  const { scopes, key, version } = query
  const exacts = await Promise.all(scopes.map((scope) => exactMatch(registry, scope, key, version, logger)))
  if (exacts[0]) return exacts[0]

  const indexes = await Promise.all(scopes.map((scope) => readIndex(registry, scope, logger)))
  const prefixes = [key, ...query.restoreKeys]
  for (const [i, scope] of scopes.entries()) {
    const exact = exacts[i]
    if (exact) return exact
    const entry = findNewestMatch(indexes[i]?.entries ?? [], prefixes, version)
    if (entry) return { key: entry.key, scope, exact: entry.key === key, reference: entry.manifest.digest }
  }
  return undefined
}

/** The matched cache's tar+zstd layers, checked to be ours, of the key and of these paths. */
export async function loadCacheLayers(
  registry: CacheRegistry,
  match: CacheMatch,
  version?: string,
): Promise<Descriptor[]> {
  const bytes = match.manifest ?? (await registry.getManifest(match.reference)).bytes
  return cacheLayersOf(bytes, match.key, match.reference, version)
}

/** The matched cache's contents in either format, checked as loadCacheLayers checks layers. */
export async function loadCacheContents(
  registry: CacheRegistry,
  match: CacheMatch,
  version?: string,
): Promise<CacheContents> {
  const bytes = match.manifest ?? (await registry.getManifest(match.reference)).bytes
  return cacheContentsOf(bytes, match.key, match.reference, version)
}

/** A scope's index entries; none when it has no index, or one that cannot be read (it is rebuilt). */
export async function readIndex(registry: CacheRegistry, scope: string, logger: Logger): Promise<IndexState> {
  const tag = indexTag(scope)
  const found = await getIfExists(registry, tag)
  if (!found) return { entries: [] }
  try {
    return { entries: parseCacheIndex(found.bytes), digest: found.digest }
  } catch (error) {
    if (!(error instanceof CacheIndexError)) throw error
    logger.warning(`Ignoring the unreadable cache index ${tag} of ${scope}: ${error.message}`)
    return { entries: [], digest: found.digest }
  }
}

async function exactMatch(
  registry: CacheRegistry,
  scope: string,
  key: string,
  version: string | undefined,
  logger: Logger,
): Promise<CacheMatch | undefined> {
  const tag = cacheTag(scope, key, version)
  const found = await getIfExists(registry, tag)
  if (!found) return undefined
  try {
    cacheContentsOf(found.bytes, key, tag, version)
  } catch (error) {
    if (!(error instanceof NotACacheError) && !(error instanceof InvalidManifestError)) throw error
    logger.warning(`Ignoring ${tag}: ${error.message}`)
    return undefined
  }
  return { key, scope, exact: true, reference: tag, manifest: found.bytes }
}

async function getIfExists(
  registry: CacheRegistry,
  reference: string,
): Promise<{ bytes: Buffer; digest: string } | undefined> {
  try {
    return await registry.getManifest(reference)
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

// Distribution answers 404 MANIFEST_UNKNOWN; some registries say NAME_UNKNOWN for a repository
// nothing was pushed to yet, which for a cache is the same miss.
export function isNotFound(error: unknown): boolean {
  return error instanceof RegistryError && error.status === 404
}
