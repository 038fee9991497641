import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

// A release re-run: matrix jobs pushed their platforms to one tag, and one job runs again with
// rebuilt content for its platform. The push compares with its platform tag, starts downloading
// that tag's layer from the storage host, finds the tree changed and pushes anew. The download it
// gave up must not stay open: a storage host that closes idle connections would then break the
// socket under it after the push succeeded, and an unhandled 'error' would fail the step.

// Far below the length of a push, so the host closes what the action left open while it still runs.
const IDLE_MS = 50

let bed: Testbed
let work: string
beforeAll(async () => {
  bed = await startTestbed({ storageIdleTimeoutMs: IDLE_MS })
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-repush-idle-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

function tree(name: string, content: string, data: Buffer): string {
  const dir = path.join(work, name, 'dist')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), content)
  writeFileSync(path.join(dir, 'data.bin'), data)
  return dir
}

test('a re-run with rebuilt content for its platform succeeds although the storage host closes idle connections', async () => {
  const repository = `${bed.registry}/alice/release`
  const auth = { username: 'alice', token: bed.users.alice as string }
  const env = { SOURCE_DATE_EPOCH: '1700000000' }
  const push = (platform: string, content: string, data: Buffer) =>
    runAction({
      inputs: {
        path: tree(`${platform}-${content}`.replace(/\W/g, '_'), content, data),
        repository,
        tag: 'v2.0.0',
        platform,
        ...auth,
      },
      env,
    })
  for (const platform of ['linux/amd64', 'linux/arm64', 'darwin/arm64']) {
    // a layer far larger than the socket's buffers: its download cannot be over at once
    expect((await push(platform, `built for ${platform}`, randomBytes(32 * 2 ** 20))).code).toBe(0)
  }

  const storageGets = bed.storageRequests.length
  // the tag's layer answers late (a storage host far away): the small tree is hashed, and found
  // changed, before the download has begun
  bed.failStorage('slow')
  // a small rebuilt tree: found changed while the tag's layer is still being fetched
  const rerun = await push('linux/amd64', 'rebuilt for linux/amd64', Buffer.from('small now'))
  expect(rerun.stderr).not.toMatch(/Unhandled 'error' event|other side closed/)
  expect(rerun.stdout).toMatch(/v2\.0\.0-linux-amd64 holds other content/)
  expect(rerun.stdout).toMatch(/Pushed /)
  expect(rerun.code).toBe(0)
  // the comparison started downloading the tag's layer and let it go, rather than leave it open
  // for the host to cut off: dropped before it reached the storage host, or answered and closed
  const gets = bed.storageRequests.slice(storageGets).filter((r) => r.method === 'GET')
  expect(gets.filter((r) => r.abandoned)).toEqual([])
})
