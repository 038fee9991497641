import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string
let repository: string
const auth = () => ({ username: 'alice', token: bed.users.alice as string })

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-interrupted-'))
  repository = `${bed.registry}/alice/interrupted`
  // incompressible, so the layer is big enough to be cut halfway
  const src = path.join(work, 'src')
  mkdirSync(src)
  writeFileSync(path.join(src, 'data.bin'), randomBytes(4 * 1024 * 1024))
  const push = await runAction({ inputs: { path: src, repository, tag: 'v1', ...auth() } })
  expect(push.code).toBe(0)
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

const staging = (parent: string) => readdirSync(parent).filter((name) => name.includes('.partial-'))

// Starts a pull whose download the storage host stalls halfway, and signals it once its staging
// folder exists next to dest.
async function interruptedPull(parent: string, signal: NodeJS.Signals) {
  bed.failStorage('stall')
  let child: ChildProcess | undefined
  const run = runAction({
    inputs: { mode: 'pull', path: path.join(parent, 'out'), repository, tag: 'v1', ...auth() },
    onSpawn: (c) => (child = c),
  })
  for (let waited = 0; staging(parent).length === 0; waited += 50) {
    if (waited > 30_000) throw new Error('the pull never started staging')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  child?.kill(signal)
  return run
}

describe('a pull that is killed', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)(
    'by %s removes its staging folder on the way out',
    async (signal) => {
      const parent = path.join(work, signal)
      mkdirSync(parent)
      const result = await interruptedPull(parent, signal)
      expect(result.code).not.toBe(0)
      expect(readdirSync(parent)).toEqual([])
    },
  )

  test('by SIGKILL leaves its staging folder, which the next pull of the same dest sweeps', async () => {
    const parent = path.join(work, 'sigkill')
    mkdirSync(parent)
    await interruptedPull(parent, 'SIGKILL')
    expect(staging(parent)).toHaveLength(1)
    const again = await runAction({
      inputs: { mode: 'pull', path: path.join(parent, 'out'), repository, tag: 'v1', ...auth() },
    })
    expect(again.code).toBe(0)
    expect(readdirSync(parent)).toEqual(['out'])
    expect(existsSync(path.join(parent, 'out', 'data.bin'))).toBe(true)
  })
})

test('a path that is a dangling symlink is refused naming the input, before any network work', async () => {
  const link = path.join(work, 'dangling')
  symlinkSync('no-such-dir', link)
  const before = bed.tokenRequests.length
  const result = await runAction({ inputs: { mode: 'pull', path: link, repository, tag: 'v1', ...auth() } })
  expect(result.code).not.toBe(0)
  expect(result.stdout).toMatch(
    /::error::Input 'path': '.*dangling' is a symlink to 'no-such-dir', which does not exist/,
  )
  expect(bed.tokenRequests.length).toBe(before)
})
