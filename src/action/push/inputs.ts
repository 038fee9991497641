import type { Platform } from '../../oci/descriptor.js'
import { pathContextOf, readPathPatterns, type PathPatterns } from '../inputs/path-inputs.js'
import {
  InputError,
  oneOf,
  readBoolean,
  readIfNoFilesFound,
  readLines,
  readMaxLayerSize,
  type IfNoFilesFound,
  type ReadInput,
} from '../inputs/readers.js'
import { readRegistryTarget, type RegistryTarget } from '../inputs/registry-inputs.js'
import { readPlatform, readPushTags, refuseTagsTooLongForPlatform } from '../inputs/tag-inputs.js'

export type PushFormat = 'auto' | 'directory' | 'oci-layout' | 'files'
export type { IfNoFilesFound } from '../inputs/readers.js'

/** What a push reads from the runner, validated before any network work. */
export interface PushInputs extends RegistryTarget {
  /** Absolute: the first line of `path` (what a single directory push packs, and a layout's folder) */
  path: string
  /** Every line of `path`, resolved (see path-inputs.ts) */
  paths: PathPatterns
  /** What to do when `path` matches nothing */
  ifNoFilesFound: IfNoFilesFound
  /** Pack names starting with `.` */
  includeHiddenFiles: boolean
  includeGit: boolean
  /** Every tag to set */
  tags: string[]
  /** Whether `tags` came from the tag input (false: the run-id default). */
  tagGiven: boolean
  format: PushFormat
  annotations: Record<string, string>
  artifactType: string
  compressionLevel: number
  /** A directory whose tar would be larger goes up as several layers (`max-layer-size`) */
  maxLayerSize: number
  /** Publish into each tag's index for this platform */
  platform?: Platform
  /** Whether a tag may move to other content (false: only the same manifest again). */
  overwrite: boolean
}

const FORMATS: readonly PushFormat[] = ['auto', 'directory', 'oci-layout', 'files']
// RFC 6838 section 4.2: type "/" subtype, each restricted-name (1-127 chars).
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/

export const DEFAULT_ARTIFACT_TYPE = 'application/vnd.oci-artifact-action.directory.v1'

/** The pure half of the push's inputs: `env` supplies the runner's GITHUB_* variables for defaults. */
export function parsePushInputs(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void = () => {},
): PushInputs {
  const format = oneOf('format', read('format').trim() || 'auto', FORMATS)
  const target = readRegistryTarget(read, env, notice)
  const paths = readPathPatterns(read('path').trim(), 'push', pathContextOf(env))
  const tags = readPushTags(read('tag'), env)
  const platform = readPlatform(read('platform'), format)
  if (platform) refuseTagsTooLongForPlatform(tags, platform, read('platform'))
  const compressionLevel = readCompressionLevel(read('compression-level'))
  const annotations = readAnnotations(read('annotations'))
  const artifactType = read('artifact-type').trim() || DEFAULT_ARTIFACT_TYPE
  if (!MEDIA_TYPE.test(artifactType)) {
    throw new InputError(
      'artifact-type',
      `'${artifactType}' is not a media type like 'application/vnd.example+type'`,
    )
  }
  return {
    ...target,
    path: (paths.includes[0] as { pattern: string }).pattern,
    paths,
    ifNoFilesFound: readIfNoFilesFound(read),
    includeHiddenFiles: readBoolean('include-hidden-files', read('include-hidden-files')),
    includeGit: readBoolean('include-git', read('include-git')),
    tags,
    tagGiven: read('tag').trim() !== '',
    format,
    annotations,
    artifactType,
    compressionLevel,
    maxLayerSize: readMaxLayerSize(read('max-layer-size')),
    platform,
    overwrite: read('overwrite').trim() === '' ? true : readBoolean('overwrite', read('overwrite')),
  }
}

function readCompressionLevel(value: string): number {
  const text = value.trim() || '6'
  if (!/^[0-9]$/.test(text))
    throw new InputError('compression-level', `'${text}' is not a whole number from 0 to 9`)
  return Number(text)
}

function readAnnotations(value: string): Record<string, string> {
  const annotations: Record<string, string> = {}
  for (const line of readLines(value)) {
    const eq = line.indexOf('=')
    const key = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!key) throw new InputError('annotations', `'${line}' is not key=value`)
    annotations[key] = line.slice(eq + 1).trim()
  }
  return annotations
}
