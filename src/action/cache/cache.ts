import * as core from '@actions/core'
import { cacheScopes } from '../../cache/scope.js'
import { getInputs } from '../inputs/readers.js'
import { summaryTable, writeSummary } from '../runner/log.js'
import {
  parseCacheInputs,
  readCacheState,
  readRefContext,
  saveCacheState,
  type CacheInputs,
} from './inputs.js'
import { restoreCache } from './restore.js'
import { saveCache } from './save.js'

/** mode: cache, the main step. */
export async function runCache(): Promise<void> {
  await restoreCacheStep(getInputs(parseCacheInputs))
}

/** The main step in cache mode: restore, set the outputs, and leave the post step what to save. */
export async function restoreCacheStep(
  inputs: CacheInputs,
  env: NodeJS.ProcessEnv = process.env,
  o: { postStep: boolean } = { postStep: true },
): Promise<void> {
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
      onMiss: o.postStep ? 'nothing: the post step saves' : 'nothing',
    }),
  )
  // cache/restore has no post step, and leaves nothing to save
  if (o.postStep)
    saveCacheState({
      key: inputs.key,
      paths: inputs.paths.lines,
      scope: scopes.save,
      matchedKey: outcome.matchedKey,
      ...(outcome.reference ? { matchedReference: outcome.reference } : {}),
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
  await saveCache(getInputs(parseCacheInputs), state)
}

/** Markdown for the job summary of a cache restore: what was asked, what matched, from where. */
export function cacheRestoreSummary(o: {
  key: string
  matchedKey: string
  hit: boolean
  source: string
  where: string
  path: string
  /** What the Matched row says on a miss */
  onMiss: string
}): string {
  const store = o.source === 'github' ? "GitHub's cache service (fallback)" : o.source ? o.where : '-'
  const rows: [string, string][] = [
    ['Key', `\`${o.key}\``],
    ['Matched', o.matchedKey ? `\`${o.matchedKey}\`${o.hit ? ' (exact)' : ' (restore key)'}` : o.onMiss],
    ['Store', store],
    ['Path', `\`${o.path}\``],
  ]
  return `## Cache ${o.hit ? 'hit' : o.matchedKey ? 'partial hit' : 'miss'}\n\n${summaryTable(rows)}`
}
