import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { cacheScopes, type RefContext } from '../cache/scope.js'
import { restoreCache } from './cache-restore.js'
import { saveCache } from './cache-save.js'
import { readCacheState, saveCacheState } from './cache-state.js'
import { getInputs, type Inputs } from './inputs.js'
import { cacheRestoreSummary, writeSummary } from './summary.js'

/** The main step in cache mode: restore, set the outputs, and leave the post step what to save. */
export async function restoreCacheStep(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const scopes = cacheScopes(readRefContext(env), inputs.cacheScope || undefined)
  core.setOutput('cache-primary-key', inputs.key)

  const outcome = await restoreCache(inputs, scopes.restore)
  const hit = outcome.matchedKey === inputs.key
  core.setOutput('cache-hit', String(hit))
  core.setOutput('cache-matched-key', outcome.matchedKey)
  await writeSummary(
    cacheRestoreSummary({
      ...outcome,
      key: inputs.key,
      hit,
      where: `${inputs.registry}/${inputs.repository}`,
      path: inputs.paths.lines.join(', '),
    }),
  )
  saveCacheState({
    key: inputs.key,
    paths: inputs.paths.lines,
    scope: scopes.save,
    matchedKey: outcome.matchedKey,
    hit,
    source: outcome.source,
    registryFailed: outcome.registryFailed,
    update: inputs.cacheUpdate,
  })

  if (outcome.matchedKey) return
  // actions/cache's wording, so workflows and people searching logs recognise it
  if (inputs.failOnCacheMiss) {
    throw new Error(
      `Failed to restore cache entry. Exiting as fail-on-cache-miss is set. Input key: ${inputs.key}`,
    )
  }
  core.info(`Cache not found for input keys: ${[inputs.key, ...inputs.restoreKeys].join(', ')}`)
}

/** The post step: saves what the main step left to save; in push and pull modes there is nothing. */
export async function saveCacheStep(): Promise<void> {
  const state = readCacheState()
  if (!state) return
  await saveCache(getInputs(), state)
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
