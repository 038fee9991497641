import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Testbed } from '../__tests__/testbed/index.js'

/** What the benchmark needs of the test bed. */
export type BenchTestbed = Pick<Testbed, 'registry' | 'users' | 'stop'>

/**
 * Starts the test bed in a child process. Its storage host (which serves every blob download)
 * and token service are Node servers; in the benchmark's own process they shared a heap with the
 * harness, whose check of each pulled tree hashes 275 MB, and V8 collected that garbage while the
 * host served the next timed download. Our cache restore, timed right after the baseline's tree
 * was checked, took 2.2-2.6 s there against 1.7-2.0 s without the check (measured): a cost of the
 * harness, not of either side.
 */
export async function startTestbedProcess(tokenTtlSeconds: number): Promise<BenchTestbed> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'testbed-process.js')
  const child = spawn(process.execPath, [entry, String(tokenTtlSeconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    exited.then(([code]) => {
      throw new Error(`the test bed process exited (${String(code)}) before it was ready`)
    }),
  ])
  lines.close()
  const { registry, users } = JSON.parse(first) as Pick<Testbed, 'registry' | 'users'>
  return {
    registry,
    users,
    stop: async () => {
      child.stdin.end()
      await exited
    },
  }
}
