import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Measured {
  wallMs: number
  /** Peak resident set of the largest process in the tree (GNU time's %M), in bytes. */
  peakRssBytes?: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
}

const GNU_TIME = '/usr/bin/time'

/** Whether peak RSS can be measured: GNU time (Debian package `time`) is installed. */
export const canMeasureRss = existsSync(GNU_TIME)

/**
 * Runs a command to completion and times it; under GNU time when present, whose %M is the
 * getrusage maximum over the command and everything it waited for. Rejects on a non-zero exit,
 * with the tail of stderr, so a broken step never becomes a fast-looking number.
 */
export async function runMeasured(command: string, args: string[], o: RunOptions = {}): Promise<Measured> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-time-'))
  const rssFile = join(scratch, 'rss')
  const [file, argv] = canMeasureRss
    ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]]
    : [command, args]
  try {
    // Written data the kernel has not flushed yet (the registry's blobs from the last push) is
    // written back some 30 s later by kernel threads, on the same two cores: flushed here, before
    // the clock starts, so no step pays for an earlier one's writes.
    await spawnCollect('sync', [], {}, 'sync')
    // The harness's own garbage (a pulled tree's check hashes 275 MB) is collected now rather
    // than by V8's threads during the step, on the same two cores (gc() is there when
    // scripts/bench.sh started us with --expose-gc).
    ;(globalThis as { gc?: () => void }).gc?.()
    const started = performance.now()
    const { stdout, stderr } = await spawnCollect(file, argv, o, command)
    const wallMs = performance.now() - started
    const peakKb = canMeasureRss ? Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop()) : NaN
    return { wallMs, peakRssBytes: Number.isFinite(peakKb) ? peakKb * 1024 : undefined, stdout, stderr }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

/** A bash pipeline with pipefail, so a failing `tar` is not hidden behind a succeeding `gzip`. */
export function runShell(script: string, o: RunOptions = {}): Promise<Measured> {
  return runMeasured('bash', ['-o', 'errexit', '-o', 'pipefail', '-o', 'nounset', '-c', script], o)
}

// Enough of stderr to explain a failure without flooding the terminal with a tool's progress.
const STDERR_TAIL = 4000

function spawnCollect(
  file: string,
  args: string[],
  o: RunOptions,
  label: string,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', reject)
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      if (code === 0) return resolve({ stdout, stderr })
      const tail = `${stdout}\n${stderr}`.trim().slice(-STDERR_TAIL)
      reject(new Error(`${label} failed (${signal ?? code}):\n${tail}`))
    })
  })
}
