import * as core from '@actions/core'
import { cacheScopes, readRefContext } from '../cache/scope.js'
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
