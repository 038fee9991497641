import * as core from '@actions/core'

/**
 * What the main step hands the post step. The key is saved here, not re-read from the inputs,
 * because the runner evaluates `with:` again for the post step, and a key built with hashFiles()
 * would change once the job has written the files it hashes. The paths travel the same way.
 */
export interface CacheState {
  key: string
  /** The `path` lines as written (the post step resolves them as the main step did) */
  paths: string[]
  /** Where a save goes (see src/cache/scope.ts) */
  scope: string
  /** The key restored, '' on a miss */
  matchedKey: string
  /** matchedKey === key: nothing to save */
  hit: boolean
  /** Which store answered the restore: 'registry', 'github' (the fallback), or '' on a miss */
  source: '' | 'registry' | 'github'
  /** The registry could not be used at all: the post step goes straight to the fallback */
  registryFailed: boolean
  /** Save even on an exact hit, moving the key to the new content */
  update: boolean
}

const STATE_NAME = 'oci-cache'

export function saveCacheState(state: CacheState): void {
  core.saveState(STATE_NAME, JSON.stringify(state))
}

/** The main step's state, or undefined when it ran in another mode (or never reached cache mode). */
export function readCacheState(): CacheState | undefined {
  const text = core.getState(STATE_NAME)
  if (!text) return undefined
  return JSON.parse(text) as CacheState
}
