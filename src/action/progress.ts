import * as core from '@actions/core'
import { formatBytes } from './format.js'

// Often enough to show a transfer is alive, rare enough not to flood the log.
const INTERVAL_MS = 5000

export interface Progress {
  /** Count `bytes` more as done. */
  add(bytes: number): void
  /** Log the final line: total, time and throughput. Returns the elapsed seconds. */
  done(): number
}

/** Logs `label: 42% of 1.2 GB, 85 MB/s` every few seconds while a transfer runs. */
export function startProgress(label: string, total?: number, now: () => number = Date.now): Progress {
  const started = now()
  let lastLog = started
  let transferred = 0
  const line = (t: number) => {
    const seconds = Math.max((t - started) / 1000, 0.001)
    const rate = `${formatBytes(transferred / seconds)}/s`
    const share = total
      ? `${Math.floor((100 * transferred) / total)}% of ${formatBytes(total)}`
      : formatBytes(transferred)
    return `${label}: ${share}, ${rate}`
  }
  return {
    add(bytes) {
      transferred += bytes
      const t = now()
      if (t - lastLog >= INTERVAL_MS) {
        lastLog = t
        core.info(line(t))
      }
    },
    done() {
      const t = now()
      const seconds = (t - started) / 1000
      core.info(
        `${label}: ${formatBytes(transferred)} in ${seconds.toFixed(1)} s (${formatBytes(transferred / Math.max(seconds, 0.001))}/s)`,
      )
      return seconds
    },
  }
}
