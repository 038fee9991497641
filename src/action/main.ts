import * as core from '@actions/core'
import { runCache, saveCacheStep } from './cache/cache.js'
import { cacheRestoreStep, cacheSaveStep } from './cache/steps.js'
import { oneOf, type ReadInput } from './inputs/readers.js'
import { runPrune } from './prune/prune.js'
import { runPull } from './pull/pull.js'
import { runPush } from './push/push.js'
import { describeError } from './runner/log.js'
import {
  gcIntervalFrom,
  paceGarbageCollection,
  removeStagingOnInterrupt,
  useEveryCore,
} from './runner/process.js'

export type Mode = 'push' | 'pull' | 'cache' | 'prune'
const MODES: readonly Mode[] = ['push', 'pull', 'cache', 'prune']

/** The `mode` input, push when empty: the first thing read, so a bad mode is refused first. */
export function readMode(read: ReadInput): Mode {
  return oneOf('mode', read('mode').trim() || 'push', MODES)
}

// Each mode reads its own inputs, does its work and sets its own outputs.
const RUN: Record<Mode, () => Promise<void>> = {
  push: runPush,
  pull: runPull,
  cache: runCache,
  prune: runPrune,
}

/** The main step: reads the mode, hands over to it, turns any error into one failed-step line. */
export async function run(): Promise<void> {
  await runStep(() => RUN[readMode((name) => core.getInput(name))]())
}

/** The cache/restore sub-action's one step: cache mode's restore, no post step. */
export async function runCacheRestore(): Promise<void> {
  await runStep(cacheRestoreStep)
}

/** The cache/save sub-action's one step: cache mode's save, where the workflow puts it. */
export async function runCacheSave(): Promise<void> {
  await runStep(cacheSaveStep)
}

async function runStep(work: () => Promise<void>): Promise<void> {
  useEveryCore()
  removeStagingOnInterrupt()
  try {
    paceGarbageCollection(gcIntervalFrom(process.env))
    await work()
  } catch (error) {
    core.setFailed(describeError(error))
  }
}

/** The post step: only cache mode has work here (saving the cache); it never fails the job. */
export async function runPost(): Promise<void> {
  useEveryCore()
  try {
    paceGarbageCollection(gcIntervalFrom(process.env))
    await saveCacheStep()
  } catch (error) {
    core.warning(describeError(error))
  }
}
