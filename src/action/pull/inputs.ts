import type { Platform } from '../../oci/descriptor.js'
import { pathContextOf, readDestination } from '../inputs/path-inputs.js'
import {
  InputError,
  oneOf,
  readBoolean,
  readIfNoFilesFound,
  type IfNoFilesFound,
  type ReadInput,
} from '../inputs/readers.js'
import { readRegistryTarget, type RegistryTarget } from '../inputs/registry-inputs.js'
import { readPlatform, readPullReference } from '../inputs/tag-inputs.js'

export type PullFormat = 'auto' | 'directory' | 'oci-layout'

/** What a pull reads from the runner, validated before any network work. */
export interface PullInputs extends RegistryTarget {
  /** Absolute: the directory to write into */
  path: string
  /** The one tag or sha256: digest to pull, or a glob over tags (`glob`) */
  reference: string
  /** `reference` is a glob: every tag it matches, each into `path/<tag>/` */
  glob: boolean
  format: PullFormat
  /** The index entry to take (default: the runner's platform) */
  platform?: Platform
  /** `platform: all`: every entry of the index, each into `path/<os>-<arch>[-<variant>]/` */
  allPlatforms: boolean
  /** With a glob: every match into `path` itself */
  mergeMultiple: boolean
  /** A glob that matches no tag: warn, error or ignore, as a push whose path matches nothing */
  ifNoFilesFound: IfNoFilesFound
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
  const { reference, glob } = readPullReference(read('tag'), env)
  const allPlatforms = read('platform').trim() === 'all'
  if (format === 'oci-layout' && glob) {
    throw new InputError('tag', `format 'oci-layout' takes one tag or digest, not the glob '${reference}'`)
  }
  if (format === 'oci-layout' && allPlatforms) {
    throw new InputError(
      'platform',
      "'all' cannot be combined with format 'oci-layout' (a layout keeps its own index)",
    )
  }
  return {
    ...target,
    path,
    reference,
    glob,
    format,
    platform: allPlatforms ? undefined : readPlatform(read('platform'), format),
    allPlatforms,
    mergeMultiple: readBoolean('merge-multiple', read('merge-multiple')),
    ifNoFilesFound: readIfNoFilesFound(read),
  }
}
