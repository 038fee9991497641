import * as core from '@actions/core'
import { availableParallelism } from 'node:os'
import { restoreCacheStep, saveCacheStep } from './cache.js'
import { describeError } from './errors.js'
import { gcIntervalFrom, paceGarbageCollection } from './gc-pacer.js'
import { getInputs, type Inputs } from './inputs.js'
import { removeStagingOnInterrupt } from './interrupt.js'
import { isLayoutPush, pullOciLayout, pushOciLayout } from './layout.js'
import { runPrune } from './prune.js'
import { pullDirectory } from './pull.js'
import { pushDirectory } from './push.js'
import { pullSummary, pushSummary, writeSummary } from './summary.js'

/** The main step: reads inputs, runs the mode, turns any error into one failed-step line. */
export async function run(): Promise<void> {
  useEveryCore()
  removeStagingOnInterrupt()
  try {
    paceGarbageCollection(gcIntervalFrom(process.env))
    const inputs = getInputs()
    switch (inputs.mode) {
      case 'push':
        return await runPush(inputs)
      case 'pull':
        return await runPull(inputs)
      case 'cache':
        return await restoreCacheStep(inputs)
      case 'prune':
        return await runPrune(inputs)
    }
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

async function runPush(inputs: Inputs): Promise<void> {
  const result = (await isLayoutPush(inputs)) ? await pushOciLayout(inputs) : await pushDirectory(inputs)
  // nothing matched `path` and if-no-files-found let the step go on
  if (!result) return
  core.setOutput('digest', result.digest)
  core.setOutput('ref', result.ref)
  if (result.platform) core.setOutput('platform-digest', result.platform.manifest.digest)
  core.setOutput('tags', result.tags.join(','))
  core.setOutput('size', String(result.size))
  if (result.url) core.setOutput('url', result.url)
  core.info(`Pushed ${result.ref} (tags: ${result.tags.join(', ')})`)
  await writeSummary(pushSummary(result, inputs))
}

async function runPull(inputs: Inputs): Promise<void> {
  const reference = `${inputs.registry}/${inputs.repository}${inputs.tags[0]?.startsWith('sha256:') ? '@' : ':'}${inputs.tags[0]}`
  const result = inputs.format === 'oci-layout' ? await pullOciLayout(inputs) : await pullDirectory(inputs)
  core.setOutput('digest', result.digest)
  core.setOutput('path', result.path)
  core.info(`Pulled ${reference} (${result.digest}) into ${result.path}`)
  await writeSummary(pullSummary(result, reference))
}

/**
 * Compression runs on libuv's thread pool, 4 threads unless told otherwise: on larger runners, use
 * every core. libuv reads the variable when the pool first starts, which is after this line.
 */
function useEveryCore(): void {
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()))
}
