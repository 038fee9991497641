/** The refs a job runs for; the caller reads them from wherever its CI keeps them. */
export interface RefContext {
  /** The job's full ref: `refs/heads/feature`, `refs/pull/7/merge`, `refs/tags/v1` */
  ref?: string
  /** A pull request's base branch name (`main`) */
  baseRef?: string
  /** The repository's default branch name */
  defaultBranch?: string
}

export interface CacheScopes {
  /** Where this job's save goes. */
  save: string
  /** Where its restore looks, in order; the first scope with a match wins. */
  restore: string[]
}

// A named scope cannot be mistaken for a ref's: git refs always start with `refs/`.
const NAMED_PREFIX = 'named/'

/**
 * actions/cache's isolation against cache poisoning: a job saves only into its own ref's scope,
 * and restores from its own ref, then the pull request's base branch, then the default branch.
 * A pull request can read main's caches but never write the ones main restores.
 *
 * A `named` scope is the opt-in to sharing: every job that names it saves into and restores from
 * that one scope, whatever its ref, so it trusts every ref that may name it.
 */
export function cacheScopes(context: RefContext, named?: string): CacheScopes {
  if (named) {
    const scope = `${NAMED_PREFIX}${named}`
    return { save: scope, restore: [scope] }
  }
  const branch = (name: string | undefined) => (name ? `refs/heads/${name}` : undefined)
  const save = context.ref || branch(context.defaultBranch) || 'refs/unknown'
  const candidates = [save, branch(context.baseRef), branch(context.defaultBranch)]
  const restore = [...new Set(candidates.filter((s): s is string => Boolean(s)))]
  return { save, restore }
}
