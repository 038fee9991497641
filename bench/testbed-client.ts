import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { copyFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Testbed } from '../__tests__/testbed/index.js'
import type { TestNetwork } from '../__tests__/testbed/netns.js'

/** What the benchmark needs of the test bed. */
export type BenchTestbed = Pick<Testbed, 'registry' | 'users' | 'caFile' | 'stop'>

/**
 * Starts the test bed in a child process. Its storage host (which serves every blob download)
 * and token service are Node servers; in the benchmark's own process they shared a heap with the
 * harness, whose check of each pulled tree hashes 275 MB, and V8 collected that garbage while the
 * host served the next timed download. Our cache restore, timed right after the baseline's tree
 * was checked, took 2.2-2.6 s there against 1.7-2.0 s without the check (measured): a cost of the
 * harness, not of either side.
 *
 * With `link`, the process runs inside the link's namespace, the whole bed over https at the
 * namespace's address (see testbed-process.ts).
 */
export async function startTestbedProcess(
  tokenTtlSeconds: number,
  link?: TestNetwork,
): Promise<BenchTestbed> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'testbed-process.js')
  const command = [
    ...(link?.exec ?? []),
    process.execPath,
    entry,
    String(tokenTtlSeconds),
    ...(link ? [link.nsAddress] : []),
  ]
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line as string),
    exited.then(([code]) => {
      throw new Error(`the test bed process exited (${String(code)}) before it was ready`)
    }),
  ])
  lines.close()
  const { registry, users, caFile } = JSON.parse(first) as Pick<Testbed, 'registry' | 'users' | 'caFile'>
  return {
    registry,
    users,
    caFile: caFile && (await certificateDirectory(caFile)),
    stop: async () => {
      child.stdin.end()
      await exited
    },
  }
}

/**
 * The CA alone in a folder of the bed's, as `ca.crt`: skopeo's --cert-dir reads every *.crt in
 * it as a CA (the bed's own folder names it ca.pem, beside its keys). Returns the copy's path;
 * curl and NODE_EXTRA_CA_CERTS read it as well.
 */
async function certificateDirectory(caFile: string): Promise<string> {
  const dir = join(dirname(caFile), 'trusted')
  await mkdir(dir, { recursive: true })
  const copy = join(dir, 'ca.crt')
  await copyFile(caFile, copy)
  return copy
}
