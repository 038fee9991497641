import { readFileSync } from 'node:fs'
import * as core from '@actions/core'
import { pathContextOf, readPathPatterns, type PathPatterns } from '../inputs/path-inputs.js'
import { InputError, readBoolean, readLines, readMaxLayerSize, type ReadInput } from '../inputs/readers.js'
import { readRegistryTarget, type RegistryTarget } from '../inputs/registry-inputs.js'
import type { RefContext } from '../../cache/scope.js'

/** What cache mode reads from the runner (actions/cache's inputs and ours), validated up front. */
export interface CacheInputs extends RegistryTarget {
  /** Every line of `path`, resolved (see path-inputs.ts); a cache always keeps hidden files */
  paths: PathPatterns
  key: string
  restoreKeys: string[]
  lookupOnly: boolean
  failOnCacheMiss: boolean
  /** A named scope replacing the ref scopes (empty: the ref scopes). */
  cacheScope: string
  /** Save even on an exact hit, moving the key to the new content */
  cacheUpdate: boolean
  includeGit: boolean
  /** A path whose tar would be larger is saved as several layers */
  maxLayerSize: number
  /** Save in content-defined chunks, sending only those the registry lacks (the default) */
  incremental: boolean
}

// actions/cache's limit on key length; longer keys are refused there too.
const MAX_KEY_LENGTH = 512

/** The pure half of cache mode's inputs: `env` supplies the runner's GITHUB_* variables for defaults. */
export function parseCacheInputs(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void = () => {},
): CacheInputs {
  const target = readRegistryTarget(read, env, notice, '/cache')
  const paths = readPathPatterns(read('path').trim(), 'cache', pathContextOf(env))
  if (read('platform').trim()) throw new InputError('platform', 'is for push and pull, not cache mode')
  const key = read('key').trim()
  if (!key) throw new InputError('key', 'is required in cache mode')
  if (key.length > MAX_KEY_LENGTH) throw new InputError('key', `is longer than ${MAX_KEY_LENGTH} characters`)
  if (key.includes(','))
    throw new InputError('key', `'${key}' contains a comma, which actions/cache refuses too`)
  const restoreKeys = readLines(read('restore-keys'))
  for (const prefix of restoreKeys) {
    if (prefix.length > MAX_KEY_LENGTH) {
      throw new InputError(
        'restore-keys',
        `'${prefix.slice(0, 40)}...' is longer than ${MAX_KEY_LENGTH} characters`,
      )
    }
  }
  return {
    ...target,
    paths,
    key,
    restoreKeys,
    lookupOnly: readBoolean('lookup-only', read('lookup-only')),
    failOnCacheMiss: readBoolean('fail-on-cache-miss', read('fail-on-cache-miss')),
    cacheScope: readCacheScope(read('cache-scope').trim()),
    cacheUpdate: readBoolean('cache-update', read('cache-update')),
    includeGit: readBoolean('include-git', read('include-git')),
    maxLayerSize: readMaxLayerSize(read('max-layer-size')),
    // on unless turned off: README, "Incremental saves", says when to
    incremental:
      read('cache-incremental').trim() !== '' && readBoolean('cache-incremental', read('cache-incremental')),
  }
}

function readCacheScope(value: string): string {
  if (value && !/^[A-Za-z0-9._/-]{1,100}$/.test(value)) {
    throw new InputError('cache-scope', `'${value}' is not up to 100 of [A-Za-z0-9._/-]`)
  }
  return value
}

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
  /** The registry's manifest restored (tag or digest): a chunked save references its chunks */
  matchedReference?: string
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

/** The runner's ref variables and the default branch named in the event payload. */
export function readRefContext(env: NodeJS.ProcessEnv): RefContext {
  return {
    ref: env.GITHUB_REF || undefined,
    baseRef: env.GITHUB_BASE_REF || undefined,
    defaultBranch: env.GITHUB_EVENT_PATH ? defaultBranchOf(env.GITHUB_EVENT_PATH) : undefined,
  }
}

// A missing or unreadable payload only narrows the restore scopes: it is not worth failing for.
function defaultBranchOf(eventPath: string): string | undefined {
  try {
    const event = JSON.parse(readFileSync(eventPath, 'utf8')) as { repository?: { default_branch?: unknown } }
    const name = event.repository?.default_branch
    return typeof name === 'string' && name ? name : undefined
  } catch {
    return undefined
  }
}
