import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../../__fixtures__/core.js'

// main.ts reads the mode, hands over to it, and turns what it throws into one failed-step line.

const runPush = jest.fn(async () => {})
const runPull = jest.fn(async () => {})
const runCache = jest.fn(async () => {})
const saveCacheStep = jest.fn(async () => {})
const runPrune = jest.fn(async () => {})
const cacheRestoreStep = jest.fn(async () => {})
const cacheSaveStep = jest.fn(async () => {})

jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('../../../src/action/push/push.js', () => ({ runPush }))
jest.unstable_mockModule('../../../src/action/pull/pull.js', () => ({ runPull }))
jest.unstable_mockModule('../../../src/action/cache/cache.js', () => ({ runCache, saveCacheStep }))
jest.unstable_mockModule('../../../src/action/cache/steps.js', () => ({ cacheRestoreStep, cacheSaveStep }))
jest.unstable_mockModule('../../../src/action/prune/prune.js', () => ({ runPrune }))

const { run, runPost } = await import('../../../src/action/main.js')

beforeEach(() => core.resetCore())

describe('run', () => {
  test('no mode input is a push', async () => {
    await run()
    expect(runPush).toHaveBeenCalledTimes(1)
    expect(core.setFailed).not.toHaveBeenCalled()
  })

  test.each([
    ['pull', runPull],
    ['cache', runCache],
    ['prune', runPrune],
    ['push', runPush],
  ])('mode: %s runs that mode alone', async (mode, entry) => {
    core.inputs.mode = ` ${mode} `
    await run()
    expect(entry).toHaveBeenCalledTimes(1)
    for (const other of [runPush, runPull, runCache, runPrune].filter((e) => e !== entry))
      expect(other).not.toHaveBeenCalled()
  })

  test('a mode that is none of them fails the step naming the input, before any mode runs', async () => {
    core.inputs.mode = 'upload'
    await run()
    expect(core.setFailed).toHaveBeenCalledWith(
      "Input 'mode': 'upload' is not one of push, pull, cache, prune",
    )
    expect([runPush, runPull, runCache, runPrune].every((entry) => entry.mock.calls.length === 0)).toBe(true)
  })

  test("a mode's error is one failed-step line with its causes", async () => {
    core.inputs.mode = 'pull'
    runPull.mockRejectedValueOnce(new Error('pulling v1 failed', { cause: new Error('connection reset') }))
    await run()
    expect(core.setFailed).toHaveBeenCalledWith('pulling v1 failed: connection reset')
  })
})

describe('runPost', () => {
  test('saves the cache, and a failure there warns without failing the job', async () => {
    await runPost()
    expect(saveCacheStep).toHaveBeenCalledTimes(1)
    saveCacheStep.mockRejectedValueOnce(new Error('disk full'))
    await runPost()
    expect(core.messages('warning')).toBe('disk full')
    expect(core.setFailed).not.toHaveBeenCalled()
  })
})
