import * as core from '@actions/core'

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

/** The pure half of a mode's inputs: values in, typed inputs out, or an InputError naming the input. */
export type ParseInputs<T> = (
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice?: (message: string) => void,
) => T

/**
 * Reads a mode's inputs from the runner with `parse`, its pure half. Masks the token at once,
 * before anything could print it.
 */
export function getInputs<T>(parse: ParseInputs<T>): T {
  const token = core.getInput('token')
  if (token) core.setSecret(token)
  return parse(
    (name) => core.getInput(name),
    process.env,
    (message) => core.notice(message),
  )
}

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

export type IfNoFilesFound = 'warn' | 'error' | 'ignore'
const IF_NO_FILES_FOUND: readonly IfNoFilesFound[] = ['warn', 'error', 'ignore']

/** upload-artifact's `if-no-files-found` (push: `path` matches nothing; pull: a tag glob matches no tag). */
export function readIfNoFilesFound(read: ReadInput): IfNoFilesFound {
  return oneOf('if-no-files-found', read('if-no-files-found').trim() || 'warn', IF_NO_FILES_FOUND)
}

/** A multi-line input's non-empty lines, trimmed. */
export function readLines(value: string): string[] {
  return value
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}

// Sizes as people write them in a workflow: `4GiB`, `500MB`, `1.5 GiB`, `1048576`. Units are
// case-insensitive; KB/MB/GB are powers of 1000 and KiB/MiB/GiB of 1024, as the SI and IEC say.
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** The bytes `text` names, or undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(text.trim())
  if (!match) return undefined
  const unit = UNITS[(match[2] as string).toLowerCase()]
  if (unit === undefined) return undefined
  return Math.floor(Number(match[1]) * unit)
}

// 4 GiB: well under ghcr.io's 10 GB layer cap even for data that will not compress, and a layer
// that size goes up inside ghcr.io's 10-minute upload limit at about 7 MB/s.
const DEFAULT_MAX_LAYER_SIZE = '4GiB'
// below this, a tree would split into absurdly many layers (and each costs a few requests)
const MIN_LAYER_SIZE = 2 ** 20

/** `max-layer-size` (push and cache): a tree whose tar would be larger goes up as several layers. */
export function readMaxLayerSize(value: string): number {
  const text = value.trim() || DEFAULT_MAX_LAYER_SIZE
  const bytes = parseByteSize(text)
  if (bytes === undefined)
    throw new InputError('max-layer-size', `'${text}' is not a size like 4GiB, 500MB or 1048576`)
  if (bytes < MIN_LAYER_SIZE) throw new InputError('max-layer-size', `'${text}' is below the minimum, 1MiB`)
  return bytes
}
