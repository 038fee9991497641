import * as core from '@actions/core'
import { ConnectionError } from '../../oci/errors.js'
import type { Logger } from '../../oci/logger.js'
import type { UploadProgress } from '../../oci/upload/produced-upload.js'

// What the runner shows: the library's log lines, progress, the job summary and the one line a
// failed step ends with.

/** The library's Logger, spoken through the runner: debug lines show only with RUNNER_DEBUG. */
export const actionsLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
}

/**
 * One line for `core.setFailed`: the error's own message (library errors already name the cause
 * and the input or entry to fix), followed by its causes when they add something, and the input
 * that would change the outcome where the library cannot name it.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  let text = error.message
  let cause = error.cause
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    if (!text.includes(cause.message)) text += `: ${cause.message}`
    cause = cause.cause
  }
  if (answeredWithoutTls(error))
    text += '. For a registry on plain http on your network, set the input `plain-http: true`'
  return text
}

function answeredWithoutTls(error: Error): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause)
    if (e instanceof ConnectionError && e.notTls) return true
  return false
}

/** Human sizes in the log and the job summary: 1000-based, as download tools show them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`
}

/** Bytes per second, as the summaries and progress lines show it. */
export function formatRate(bytes: number, seconds: number): string {
  return `${formatBytes(bytes / Math.max(seconds, 0.001))}/s`
}

// Often enough to show a transfer is alive, rare enough not to flood the log.
const PROGRESS_INTERVAL_MS = 5000

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
    const share = total
      ? `${Math.floor((100 * transferred) / total)}% of ${formatBytes(total)}`
      : formatBytes(transferred)
    return `${label}: ${share}, ${formatRate(transferred, seconds)}`
  }
  return {
    add(bytes) {
      transferred += bytes
      const t = now()
      if (t - lastLog >= PROGRESS_INTERVAL_MS) {
        lastLog = t
        core.info(line(t))
      }
    },
    done() {
      const t = now()
      const seconds = (t - started) / 1000
      core.info(
        `${label}: ${formatBytes(transferred)} in ${seconds.toFixed(1)} s (${formatRate(transferred, seconds)})`,
      )
      return seconds
    },
  }
}

/** An upload's progress lines, named by the blob's digest. */
export const uploadProgress: UploadProgress = (desc) =>
  startProgress(`Uploading ${desc.digest.slice(0, 19)}`, desc.size)

/** A two-column Markdown table of a summary's facts, pipes in values escaped. */
export function summaryTable(rows: [string, string][]): string {
  return `| | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`).join('\n')}\n`
}

/** Best effort: a summary that cannot be written warns and never fails the step. */
export async function writeSummary(markdown: string): Promise<void> {
  try {
    if (!process.env.GITHUB_STEP_SUMMARY) return
    await core.summary.addRaw(markdown, true).write()
  } catch (error) {
    core.warning(`Could not write the job summary: ${(error as Error).message}`)
  }
}
