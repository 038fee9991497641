/**
 * One line for `core.setFailed`: the error's own message (library errors already name the cause
 * and the input or entry to fix), followed by its causes when they add something.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  let text = error.message
  let cause = error.cause
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    if (!text.includes(cause.message)) text += `: ${cause.message}`
    cause = cause.cause
  }
  return text
}
