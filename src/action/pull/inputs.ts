import type { Platform } from '../../oci/descriptor.js'
import { pathContextOf, readDestination } from '../inputs/path-inputs.js'
import { InputError, oneOf, type ReadInput } from '../inputs/readers.js'
import { readRegistryTarget, type RegistryTarget } from '../inputs/registry-inputs.js'
import { readPlatform, readPullReference } from '../inputs/tag-inputs.js'

export type PullFormat = 'auto' | 'directory' | 'oci-layout'

/** What a pull reads from the runner, validated before any network work. */
export interface PullInputs extends RegistryTarget {
  /** Absolute: the directory to write into */
  path: string
  /** The one tag or sha256: digest to pull */
  reference: string
  format: PullFormat
  /** The index entry to take (default: the runner's platform) */
  platform?: Platform
}

const FORMATS = ['auto', 'directory', 'oci-layout'] as const

/** The pure half of the pull's inputs: `env` supplies the runner's GITHUB_* variables for defaults. */
export function parsePullInputs(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void = () => {},
): PullInputs {
  const format = oneOf('format', read('format').trim() || 'auto', [...FORMATS, 'files'] as const)
  if (format === 'files') {
    throw new InputError('format', `'files' is a push format (a pull saves file layers by their titles)`)
  }
  const target = readRegistryTarget(read, env, notice)
  const path = readDestination(read('path').trim(), pathContextOf(env))
  const reference = readPullReference(read('tag'), env)
  return { ...target, path, reference, format, platform: readPlatform(read('platform'), format) }
}
