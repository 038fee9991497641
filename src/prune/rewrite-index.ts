import { buildCacheIndex, parseCacheIndex } from '../cache/cache-index.js'
import type { Repository } from '../oci/repository.js'
import type { IndexRewrite } from './plan.js'

export type IndexRegistry = Pick<Repository, 'getManifest' | 'putManifest'>

/**
 * Writes the scope's index again without the caches about to be deleted, before they are: a
 * restore that reads the index from now on never picks one. The index is read afresh, so entries
 * saved since the inventory stay. Returns the digest written; `empty` when nothing is left to
 * list (the caller deletes the index), `unchanged` when it lists none of `deleting`.
 */
export async function rewriteScopeIndex(
  registry: IndexRegistry,
  rewrite: IndexRewrite,
  deleting: Set<string>,
): Promise<string | 'empty' | 'unchanged'> {
  const tag = rewrite.index.tags[0]
  if (!tag) throw new Error(`the index of ${rewrite.scope} has no tag`)
  const current = parseCacheIndex((await registry.getManifest(tag)).bytes)
  const entries = current.filter((e) => !deleting.has(e.manifest.digest))
  if (entries.length === current.length) return 'unchanged'
  if (entries.length === 0) return 'empty'
  const built = buildCacheIndex(rewrite.scope, entries)
  return registry.putManifest(built.bytes, built.mediaType, tag)
}
