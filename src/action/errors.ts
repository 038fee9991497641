import { ConnectionError } from '../oci/errors.js'

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
