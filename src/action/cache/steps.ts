import * as core from '@actions/core'
import { cacheScopes } from '../../cache/scope.js'
import { getInputs } from '../inputs/readers.js'
import { describeError, formatBytes, summaryTable, writeSummary } from '../runner/log.js'
import { readRefContext, restoreCacheStep } from './cache.js'
import { parseCacheInputs, type CacheInputs } from './inputs.js'
import { saveCache, type SaveOutcome } from './save.js'

// The sub-actions cache/restore and cache/save: the two halves of cache mode as steps of their
// own, as actions/cache/restore and actions/cache/save are. Their action.yml files declare
// actions/cache's inputs for each half plus ours; an input a half does not declare reads as empty.

/** cache/restore: the main step of cache mode, without a post step to hand anything to. */
export async function cacheRestoreStep(): Promise<void> {
  await restoreCacheStep(getInputs(parseCacheInputs), process.env, { postStep: false })
}

/** cache/save: the inputs are checked first (a bad one fails the step); a save itself never does. */
export async function cacheSaveStep(): Promise<void> {
  const inputs = getInputs(parseCacheInputs)
  try {
    await saveCacheNow(inputs)
  } catch (error) {
    core.warning(describeError(error))
  }
}

/**
 * Saves `path` under `key` now, into this job's scope (or `cache-scope`). No restore step's state
 * reaches this step (the runner keeps state per step), so it saves as after a miss: the pack
 * streams into the upload, and a key already saved in the scope is left alone unless
 * `cache-update` (keys are immutable, as in actions/cache). Writes the job summary.
 */
export async function saveCacheNow(inputs: CacheInputs, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const scopes = cacheScopes(readRefContext(env), inputs.cacheScope || undefined)
  const outcome = await saveCache(
    inputs,
    {
      key: inputs.key,
      paths: inputs.paths.lines,
      scope: scopes.save,
      matchedKey: '',
      hit: false,
      source: '',
      registryFailed: false,
      update: inputs.cacheUpdate,
    },
    undefined,
    { step: 'save' },
  )
  await writeSummary(
    cacheSaveSummary(outcome, { key: inputs.key, scope: scopes.save, path: inputs.paths.lines.join(', ') }),
  )
}

/** Markdown for the job summary of cache/save: where the cache went, or why it was not saved. */
export function cacheSaveSummary(
  outcome: SaveOutcome,
  o: { key: string; scope: string; path: string },
): string {
  const rows: [string, string][] = [
    ['Key', `\`${o.key}\``],
    ['Scope', `\`${o.scope}\``],
    ['Path', `\`${o.path}\``],
  ]
  if (outcome.saved === 'registry') {
    rows.push(
      ['Store', `\`${outcome.where}\``],
      ['Size', `${formatBytes(outcome.size)} in ${outcome.paths} path(s)`],
      [
        'Uploaded',
        outcome.uploaded === 0 ? 'nothing: the registry had every layer' : formatBytes(outcome.uploaded),
      ],
      ['Time', `${outcome.seconds.toFixed(1)} s`],
    )
  } else if (outcome.saved === 'github') {
    rows.push(['Store', "GitHub's cache service (fallback)"], ['Why', outcome.reason])
  } else {
    rows.push(['Why', outcome.reason])
  }
  return `## Cache ${outcome.saved ? 'saved' : 'not saved'}\n\n${summaryTable(rows)}`
}
