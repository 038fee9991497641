import { matchesTagGlob } from '../oci/tag-glob.js'
import {
  CACHE_ARTIFACT_TYPE,
  CACHE_INDEX_ARTIFACT_TYPE,
  CREATED_ANNOTATION,
  KEY_ANNOTATION,
  SCOPE_ANNOTATION,
} from '../cache/cache-annotations.js'
import { parseTime, type InventoryVersion } from './inventory.js'

export interface PrunePolicy {
  /** Globs over tags (`*`, `?`, `[...]`); empty: only caches are pruned */
  tagPatterns: string[]
  /** The newest this many that match stay (per scope, for caches) */
  keep?: number
  /** Only what is older than this goes */
  olderThanMs?: number
  now: number
}

export interface Verdict {
  version: InventoryVersion
  reason: string
  /** For caches: the key and scope, so reports can name them */
  cache?: { key: string; scope: string }
}

/** A scope index that must be rewritten without the caches the plan deletes. */
export interface IndexRewrite {
  scope: string
  /** The index version today (its tag stays, moved to the rewritten index) */
  index: InventoryVersion
  /** Digests the rewritten index keeps; none: the index is deleted with its last cache */
  keepDigests: Set<string>
}

export interface PrunePlan {
  delete: Verdict[]
  keep: Verdict[]
  rewrites: IndexRewrite[]
}

/**
 * Decides what goes, purely. A tagged version goes only when every tag it carries matches a
 * pattern and it is neither among the newest `keep` of the matches nor younger than `older-than`.
 * Caches go by the same two rules within each scope; superseded caches and scope indexes (no tag
 * left) go always. Nothing a kept index references goes (a kept release's platform manifests),
 * and an untagged manifest only a deleted index referenced goes with it.
 */
export function planPrune(versions: InventoryVersion[], policy: PrunePolicy): PrunePlan {
  const verdicts = new Map<string, { del: boolean; verdict: Verdict }>()
  const set = (v: InventoryVersion, del: boolean, reason: string, cache?: Verdict['cache']) =>
    verdicts.set(v.digest, { del, verdict: { version: v, reason, ...(cache ? { cache } : {}) } })

  const caches = versions.filter((v) => v.artifactType === CACHE_ARTIFACT_TYPE)
  const indexes = versions.filter((v) => v.artifactType === CACHE_INDEX_ARTIFACT_TYPE)
  const others = versions.filter((v) => !caches.includes(v) && !indexes.includes(v))

  // Caches, scope by scope, newest first
  const byScope = new Map<string, InventoryVersion[]>()
  for (const cache of caches) {
    const cacheOf = {
      key: cache.annotations[KEY_ANNOTATION] ?? '',
      scope: cache.annotations[SCOPE_ANNOTATION] ?? '',
    }
    if (cache.tags.length === 0) {
      set(cache, true, 'a superseded save: no tag names it', cacheOf)
      continue
    }
    byScope.set(cacheOf.scope, [...(byScope.get(cacheOf.scope) ?? []), cache])
  }
  for (const [scope, list] of byScope) {
    const savedAt = (v: InventoryVersion) => parseTime(v.annotations[CREATED_ANNOTATION]) ?? v.created
    ranked(list, savedAt).forEach((cache, rank) => {
      const cacheOf = { key: cache.annotations[KEY_ANNOTATION] ?? '', scope }
      const age = ageVerdict(savedAt(cache), rank, policy, 'in its scope')
      set(cache, age.del, age.reason, cacheOf)
    })
  }
  for (const index of indexes) {
    if (index.tags.length === 0) set(index, true, 'a superseded cache index: no tag names it')
    else set(index, false, `the index of scope ${index.annotations[SCOPE_ANNOTATION] ?? '?'} (rewritten)`)
  }

  // Everything else, by tag
  const matches: InventoryVersion[] = []
  for (const version of others) {
    if (version.tags.length === 0) {
      set(version, false, 'untagged')
      continue
    }
    const outside = version.tags.find((tag) => !matchesAny(tag, policy.tagPatterns))
    if (outside !== undefined) {
      set(
        version,
        false,
        policy.tagPatterns.length ? `tag ${outside} is outside tag-pattern` : 'no tag-pattern',
      )
    } else matches.push(version)
  }
  ranked(matches, (v) => v.created).forEach((version, rank) => {
    const age = ageVerdict(version.created, rank, policy, 'matching tag-pattern')
    set(version, age.del, age.reason)
  })

  protectReferenced(versions, verdicts)
  cascade(versions, verdicts)

  const rewrites: IndexRewrite[] = []
  const present = new Set(versions.map((v) => v.digest))
  for (const index of indexes) {
    if (index.tags.length === 0) continue
    const keepDigests = new Set(index.children.filter((d) => present.has(d) && !verdicts.get(d)?.del))
    if (keepDigests.size === index.children.length) continue
    rewrites.push({ scope: index.annotations[SCOPE_ANNOTATION] ?? '', index, keepDigests })
    if (keepDigests.size === 0) set(index, true, 'the index of a scope whose every cache goes')
  }

  const plan: PrunePlan = { delete: [], keep: [], rewrites }
  for (const { del, verdict } of verdicts.values()) (del ? plan.delete : plan.keep).push(verdict)
  return plan
}

export function matchesAny(tag: string, patterns: string[]): boolean {
  return patterns.some((pattern) => matchesTagGlob(tag, pattern))
}

function ageVerdict(
  created: Date | undefined,
  rank: number,
  policy: PrunePolicy,
  among: string,
): { del: boolean; reason: string } {
  if (policy.keep !== undefined && rank < policy.keep) {
    return { del: false, reason: `among the newest ${policy.keep} ${among}` }
  }
  if (policy.olderThanMs !== undefined) {
    if (!created) return { del: false, reason: 'no creation time to compare with older-than' }
    if (policy.now - created.getTime() < policy.olderThanMs)
      return { del: false, reason: 'newer than older-than' }
  }
  const why: string[] = []
  if (policy.keep !== undefined) why.push(`not among the newest ${policy.keep} ${among}`)
  if (policy.olderThanMs !== undefined) why.push('older than older-than')
  return { del: true, reason: why.join(', ') }
}

/** Newest first; versions with no time sort last (they cannot be shown to be new). */
function ranked(list: InventoryVersion[], at: (v: InventoryVersion) => Date | undefined): InventoryVersion[] {
  return [...list].sort(
    (a, b) =>
      (at(b)?.getTime() ?? -Infinity) - (at(a)?.getTime() ?? -Infinity) || a.digest.localeCompare(b.digest),
  )
}

// Until nothing changes: a kept index keeps what it lists, which may itself be an index. Scope
// indexes are left out: they are rewritten to list only what stays.
function protectReferenced(
  versions: InventoryVersion[],
  verdicts: Map<string, { del: boolean; verdict: Verdict }>,
): void {
  for (let changed = true; changed;) {
    changed = false
    for (const parent of versions) {
      if (verdicts.get(parent.digest)?.del || parent.artifactType === CACHE_INDEX_ARTIFACT_TYPE) continue
      for (const child of parent.children) {
        const entry = verdicts.get(child)
        if (!entry?.del) continue
        entry.del = false
        entry.verdict.reason = `listed by the kept index ${versionName(parent)}`
        changed = true
      }
    }
  }
}

// An untagged manifest that only deleted indexes list (a deleted release's platform manifest)
// goes with them, unless a kept index lists it too.
function cascade(
  versions: InventoryVersion[],
  verdicts: Map<string, { del: boolean; verdict: Verdict }>,
): void {
  const lists = (v: InventoryVersion) => v.artifactType !== CACHE_INDEX_ARTIFACT_TYPE
  for (let changed = true; changed;) {
    changed = false
    const listedByKept = new Set(
      versions.filter((v) => lists(v) && !verdicts.get(v.digest)?.del).flatMap((v) => v.children),
    )
    for (const parent of versions) {
      if (!lists(parent) || !verdicts.get(parent.digest)?.del) continue
      for (const child of parent.children) {
        const entry = verdicts.get(child)
        if (!entry || entry.del || entry.verdict.version.tags.length > 0 || listedByKept.has(child)) continue
        entry.del = true
        entry.verdict.reason = `listed only by the deleted index ${versionName(parent)}`
        changed = true
      }
    }
  }
}

export function versionName(version: InventoryVersion): string {
  return version.tags.length > 0 ? version.tags.join(', ') : version.digest.slice(0, 19)
}
