import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import type { PruneOptions, PruneReport } from '../../../../src/prune/index.js'
import * as core from '../../../__fixtures__/core.js'

// What prune mode makes of the library's report (outputs, log, summary) and which store it asks.

const actual = await import('../../../../src/prune/index.js')
let report: PruneReport
const prune = jest.fn(async (_o: PruneOptions) => report)
jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('../../../../src/prune/index.js', () => ({ ...actual, prune }))
const { runPrune } = await import('../../../../src/action/prune/prune.js')

const version = (digest: string, tags: string[]) => ({
  id: digest,
  digest,
  tags,
  created: new Date('2026-01-01T00:00:00Z'),
  bytes: 0,
  children: [],
})

beforeEach(() => {
  core.resetCore()
  Object.assign(core.inputs, { repository: 'registry.example/o/n', 'tag-pattern': 'run-*', keep: '1' })
  report = {
    dryRun: false,
    deleted: [
      { version: version('sha256:aa', ['run-1']), reason: 'older than the newest 1' },
      { version: version('sha256:bb', ['k-x']), reason: 'older', cache: { key: 'npm-x', scope: 'main' } },
    ],
    kept: [{ version: version('sha256:cc', ['run-2']), reason: 'among the newest 1' }],
    refused: [],
    freedBytes: 2048,
    rewrittenScopes: [],
  } as unknown as PruneReport
})

describe('mode: prune', () => {
  test('the outputs list what went, caches with their key and scope', async () => {
    await runPrune()
    expect(JSON.parse(core.outputs.deleted as string)).toEqual([
      { digest: 'sha256:aa', tags: ['run-1'] },
      { digest: 'sha256:bb', tags: ['k-x'], key: 'npm-x', scope: 'main' },
    ])
    expect(core.outputs['deleted-count']).toBe('2')
    expect(core.outputs['freed-bytes']).toBe('2048')
    expect(core.messages('info')).toMatch(/Deleted 2 version\(s\) of registry.example\/o\/n, 2.0 kB; kept 1/)
  })

  test('the policy is the inputs; a registry that is not ghcr.io is pruned through its own API', async () => {
    await runPrune()
    const given = prune.mock.calls[0]![0]
    expect(given.policy).toMatchObject({ tagPatterns: ['run-*'], keep: 1 })
    expect(given.dryRun).toBe(false)
    expect(given.store.name).not.toMatch(/Packages API/)
  })

  test('dry-run says what would go, one line each', async () => {
    core.inputs['dry-run'] = 'true'
    report = { ...report, dryRun: true }
    await runPrune()
    expect(core.messages('info')).toMatch(/^Would delete .*run-1.*: older than the newest 1$/m)
    expect(core.messages('info')).toMatch(/Would delete 2 version\(s\)/)
  })

  test('ghcr.io without a token is refused before anything is listed', async () => {
    core.inputs.repository = 'octo/repo'
    await expect(runPrune()).rejects.toThrow(/Input 'token': pruning a ghcr.io package needs a token/)
    expect(prune).not.toHaveBeenCalled()
  })
})
