/** A bad input: the message names the input and quotes the value, so the user knows what to fix. */
export class InputError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`)
    this.name = 'InputError'
  }
}

export type ReadInput = (name: string) => string

export function oneOf<T extends string>(input: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InputError(input, `'${value}' is not one of ${allowed.join(', ')}`)
}

export function readBoolean(input: string, value: string): boolean {
  const text = value.trim().toLowerCase()
  if (text === '' || text === 'false') return false
  if (text === 'true') return true
  throw new InputError(input, `'${value.trim()}' is not true or false`)
}
