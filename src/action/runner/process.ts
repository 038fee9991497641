import { availableParallelism } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { removeLiveStaging } from '../../archive/staging.js'

// Process-wide choices every step makes before its mode runs: the thread pool, what a cancelled
// step cleans up, and the opt-in GC pacer.

/**
 * Compression runs on libuv's thread pool, 4 threads unless told otherwise: on larger runners, use
 * every core. libuv reads the variable when the pool first starts, which is after this line.
 */
export function useEveryCore(): void {
  process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableParallelism()))
}

/**
 * The runner cancels a step with SIGINT, then SIGTERM, then kills it: on either signal, remove the
 * staging folders of the extraction under way (a pull killed later by SIGKILL leaves its folder to
 * the next pull of the same dest, which sweeps it), then let the signal end the process as it would
 * have without us.
 */
let interruptHandled = false

export function removeStagingOnInterrupt(): void {
  if (interruptHandled) return
  interruptHandled = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      try {
        removeLiveStaging()
      } finally {
        process.kill(process.pid, signal)
      }
    })
  }
}

type CollectGarbage = (options: { type: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void

/** The tuning knob: a young-generation GC every this many milliseconds. Unset: none. */
export const GC_INTERVAL_VARIABLE = 'OCI_ARTIFACT_ACTION_GC_INTERVAL_MS'

/**
 * The interval the variable asks for: 0 (off) when it is unset or empty, else a whole number of
 * milliseconds from 1 to 1000. Anything else is an error naming the variable.
 */
export function gcIntervalFrom(env: NodeJS.ProcessEnv): number {
  const value = env[GC_INTERVAL_VARIABLE]?.trim()
  if (!value) return 0
  const ms = Number(value)
  if (!Number.isInteger(ms) || ms < 0 || ms > 1000) {
    throw new Error(
      `${GC_INTERVAL_VARIABLE} must be a whole number of milliseconds from 0 to 1000, not "${value}"`,
    )
  }
  return ms
}

/**
 * Off unless asked for (README, "Tuning"): a minor GC on a timer frees spent I/O buffers sooner,
 * which pays only where freed memory goes back to the host at once; V8 flags set at run time are
 * documented as unpredictable, so it is an opt-in (why and the numbers: BENCHMARKS.md, "The GC
 * pacer"). The timer is unref'd.
 */
export function paceGarbageCollection(intervalMs: number): () => void {
  if (!(intervalMs > 0)) return () => undefined
  // --expose-gc set at run time: V8 installs gc() in contexts created after the flag, hence the
  // fresh context (the documented use of setFlagsFromString; the flag touches nothing else)
  setFlagsFromString('--expose-gc')
  const collect = runInNewContext('gc') as CollectGarbage
  const timer = setInterval(() => collect({ type: 'minor' }), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
