import { forEachLimited } from '../oci/layout/for-each-limited.js'
import type { Repository } from '../oci/repository.js'

/**
 * One version of a package as its store lists it: a manifest, the tags naming it, and (when the
 * store knows) when it was pushed. A store with versions of its own (a registry's package API,
 * implemented in src/action/) gives its id; the distribution API's id is the digest.
 */
export interface StoredVersion {
  id: string
  digest: string
  tags: string[]
  /** Push time, when the store records one (a package API may, the distribution API does not) */
  created?: Date
}

/** Where versions are listed and deleted: the distribution API, or a store the caller brings. */
export interface VersionStore {
  /** For messages: "the distribution API of 127.0.0.1:5000/alice/x" */
  readonly name: string
  /** Whether list() includes untagged manifests (a package API may, the distribution API cannot) */
  readonly listsUntagged: boolean
  list(): Promise<StoredVersion[]>
  delete(version: StoredVersion): Promise<void>
}

/** A version the store would not delete, with the store's reason; the prune goes on. */
export class VersionRefusedError extends Error {
  constructor(
    readonly version: StoredVersion,
    reason: string,
  ) {
    super(reason)
    this.name = 'VersionRefusedError'
  }
}

// HEADs in flight while tags are resolved to digests.
const RESOLVE_CONCURRENCY = 8

/**
 * The distribution API as a version store: the tag list, each tag resolved to its digest (tags
 * naming the same manifest make one version), and DELETE by digest. Untagged manifests cannot be
 * listed through this API; the inventory finds the ones a tagged index references.
 */
export function registryVersionStore(repo: Repository): VersionStore {
  return {
    name: `the distribution API of ${repo.registry}/${repo.repository}`,
    listsUntagged: false,
    async list() {
      const tags = await repo.listTags()
      const digests = new Array<string | undefined>(tags.length)
      await forEachLimited(tags, RESOLVE_CONCURRENCY, async (tag, i) => {
        digests[i] = (await repo.headManifest(tag))?.digest
      })
      const byDigest = new Map<string, StoredVersion>()
      tags.forEach((tag, i) => {
        const digest = digests[i]
        if (!digest) return // deleted while we listed
        const version = byDigest.get(digest) ?? { id: digest, digest, tags: [] }
        version.tags.push(tag)
        byDigest.set(digest, version)
      })
      return [...byDigest.values()]
    },
    delete: (version) => repo.deleteManifest(version.digest),
  }
}
