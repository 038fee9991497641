import { buildCacheIndex, parseCacheIndex } from '../cache/cache-index.js'
import type { Logger } from '../oci/logger.js'
import type { Repository } from '../oci/repository.js'
import { readInventory, type InventoryVersion, type ManifestSource } from './inventory.js'
import {
  planPrune,
  versionName,
  type IndexRewrite,
  type PrunePlan,
  type PrunePolicy,
  type Verdict,
} from './plan.js'
import { VersionRefusedError, type VersionStore } from './versions.js'

export interface PruneOptions {
  store: VersionStore
  /** Reads manifests and writes rewritten scope indexes */
  registry: ManifestSource & IndexRegistry
  policy: PrunePolicy
  dryRun: boolean
  logger: Logger
}

export interface PruneReport {
  dryRun: boolean
  /** Deleted (with dryRun: what would be) */
  deleted: Verdict[]
  kept: Verdict[]
  /** Versions the store refused to delete, or whose scope index could not be rewritten */
  refused: { verdict: Verdict; reason: string }[]
  /** Bytes of the deleted manifests and of the blobs no remaining version references */
  freedBytes: number
  /** Scopes whose index was rewritten (or would be) */
  rewrittenScopes: string[]
}

/**
 * List, read, plan, then (unless a dry run) rewrite the scope indexes and delete. Indexes go
 * before what they list, so no moment has a kept index naming a deleted manifest. A version the
 * store refuses (by a policy of its own) is reported and skipped.
 */
export async function prune(o: PruneOptions): Promise<PruneReport> {
  const listed = await o.store.list()
  const inventory = await readInventory(o.registry, listed, {
    listsUntagged: o.store.listsUntagged,
    logger: o.logger,
  })
  o.logger.info(`${o.store.name}: ${inventory.length} version(s)`)
  const plan = planPrune(inventory, o.policy)
  if (o.dryRun) {
    return report(
      true,
      inventory,
      plan,
      plan.delete,
      [],
      plan.rewrites.map((r) => r.scope),
    )
  }

  const refused: PruneReport['refused'] = []
  const skip = new Set<string>()
  const deleting = new Set(plan.delete.map((v) => v.version.digest))
  const rewritten: string[] = []
  const supersededIndexes: InventoryVersion[] = []
  for (const rewrite of plan.rewrites) {
    try {
      const written = await rewriteScopeIndex(o.registry, rewrite, deleting)
      rewritten.push(rewrite.scope)
      if (written.startsWith('sha256:') && written !== rewrite.index.digest)
        supersededIndexes.push(rewrite.index)
    } catch (error) {
      // its caches stay listed, so they must stay, and so must it
      skip.add(rewrite.index.digest)
      for (const verdict of plan.delete) {
        if (verdict.cache?.scope === rewrite.scope) skip.add(verdict.version.digest)
      }
      o.logger.warning(
        `Keeping the caches of ${rewrite.scope}: its index could not be rewritten: ${(error as Error).message}`,
      )
    }
  }

  const deleted: Verdict[] = []
  for (const verdict of deleteOrder(plan.delete)) {
    if (skip.has(verdict.version.digest)) {
      refused.push({ verdict, reason: 'its scope index could not be rewritten' })
      continue
    }
    if (await deleteVersion(o, verdict, refused)) deleted.push(verdict)
  }
  await recheckIndexes(o, plan, rewritten, new Set(deleted.map((v) => v.version.digest)))
  for (const index of supersededIndexes) {
    const verdict = { version: index, reason: 'the scope index before the rewrite' }
    if (await deleteVersion(o, verdict, refused)) deleted.push(verdict)
  }
  return report(false, inventory, plan, deleted, refused, rewritten)
}

/**
 * A save that read a scope's index before our rewrite may have written it back, pruned entries and
 * all, before the deletes: one more pass drops them again, so restores do not pick what is gone.
 * Best effort: a save afterwards meets the registry's refusal of an index naming deleted
 * manifests, and its own code drops them.
 */
async function recheckIndexes(o: PruneOptions, plan: PrunePlan, scopes: string[], gone: Set<string>) {
  for (const rewrite of plan.rewrites) {
    if (!scopes.includes(rewrite.scope) || rewrite.keepDigests.size === 0) continue
    try {
      const again = await rewriteScopeIndex(o.registry, rewrite, gone)
      if (again !== 'unchanged')
        o.logger.info(`The index of ${rewrite.scope} was written meanwhile: rewritten again`)
    } catch (error) {
      o.logger.warning(`Could not re-check the index of ${rewrite.scope}: ${(error as Error).message}`)
    }
  }
}

async function deleteVersion(
  o: PruneOptions,
  verdict: Verdict,
  refused: PruneReport['refused'],
): Promise<boolean> {
  try {
    await o.store.delete(verdict.version)
    o.logger.info(`Deleted ${describe(verdict)}: ${verdict.reason}`)
    return true
  } catch (error) {
    if (!(error instanceof VersionRefusedError)) throw error
    o.logger.warning(`Not deleted: ${describe(verdict)}: ${error.message}`)
    refused.push({ verdict, reason: error.message })
    return false
  }
}

export function describe(verdict: Verdict): string {
  const what = verdict.cache
    ? `cache ${verdict.cache.key} (${verdict.cache.scope})`
    : versionName(verdict.version)
  return `${what} ${verdict.version.digest}`
}

// Parents first: an index never names a manifest already gone.
function deleteOrder(verdicts: Verdict[]): Verdict[] {
  return [...verdicts].sort((a, b) => b.version.children.length - a.version.children.length)
}

function report(
  dryRun: boolean,
  inventory: InventoryVersion[],
  plan: PrunePlan,
  deleted: Verdict[],
  refused: PruneReport['refused'],
  rewrittenScopes: string[],
): PruneReport {
  const gone = new Set(deleted.map((v) => v.version.digest))
  const kept = plan.keep.concat(refused.map((r) => r.verdict))
  const stillReferenced = new Set(
    inventory.filter((v) => !gone.has(v.digest)).flatMap((v) => v.blobs.map((b) => b.digest)),
  )
  const freed = new Map<string, number>()
  for (const { version } of deleted) {
    freed.set(version.digest, version.size)
    for (const blob of version.blobs) if (!stillReferenced.has(blob.digest)) freed.set(blob.digest, blob.size)
  }
  const freedBytes = [...freed.values()].reduce((a, b) => a + b, 0)
  return { dryRun, deleted, kept, refused, freedBytes, rewrittenScopes }
}

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
