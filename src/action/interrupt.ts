import { removeLiveStaging } from '../archive/staging.js'

/**
 * The runner cancels a step with SIGINT, then SIGTERM, then kills it: on either signal, remove the
 * staging folders of the extraction under way (a pull killed later by SIGKILL leaves its folder to
 * the next pull of the same dest, which sweeps it), then let the signal end the process as it would
 * have without us.
 */
let installed = false

export function removeStagingOnInterrupt(): void {
  if (installed) return
  installed = true
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
