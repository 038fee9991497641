import * as core from '@actions/core'
import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Platform } from '../oci/descriptor.js'
import { isValidTag } from '../oci/reference.js'
import { parseByteSize } from './byte-size.js'
import { GHCR, parseRepositoryInput } from './ghcr.js'
import type { Credentials } from '../oci/repository.js'
import { InputError, oneOf, readBoolean, type ReadInput } from './input-error.js'
import { parsePathInput, PathInputError, type PathPatterns } from './path-inputs.js'
import { readPlatform } from './platform-input.js'
import { readPruneInputs, type PruneInputs } from './prune-inputs.js'

export { InputError, type ReadInput } from './input-error.js'
export type { PruneInputs } from './prune-inputs.js'

export type Mode = 'push' | 'pull' | 'cache' | 'prune'
export type Format = 'auto' | 'directory' | 'oci-layout' | 'files'
export type IfNoFilesFound = 'warn' | 'error' | 'ignore'

/** Everything the action reads from the runner, validated before any network work. */
export interface Inputs {
  mode: Mode
  /**
   * Absolute path: pull's destination; push and cache: the first line of `path` (what a single
   * directory push packs, and the summary shows).
   */
  path: string
  /** push and cache: every line of `path`, resolved (see path-inputs.ts) */
  paths: PathPatterns
  /** push: what to do when `path` matches nothing */
  ifNoFilesFound: IfNoFilesFound
  /** push: pack names starting with `.` (cache mode always keeps them, as actions/cache) */
  includeHiddenFiles: boolean
  registry: string
  repository: string
  /** push: every tag to set. pull: one element, a tag or a sha256: digest. cache: unused. */
  tags: string[]
  /** Whether `tags` came from the tag input (false: the run-id default). */
  tagGiven: boolean
  format: Format
  credentials?: Credentials
  annotations: Record<string, string>
  artifactType: string
  compressionLevel: number
  /** push: a directory whose tar would be larger goes up as several layers (`max-layer-size`) */
  maxLayerSize: number
  includeGit: boolean
  /** Plain http to `registry` although it is not a loopback host (`plain-http`). */
  plainHttp: boolean
  key: string
  restoreKeys: string[]
  lookupOnly: boolean
  failOnCacheMiss: boolean
  /** cache: a named scope replacing the ref scopes (empty: the ref scopes). */
  cacheScope: string
  cacheUpdate: boolean
  /** push: publish into each tag's index for this platform. pull: the entry to take (default: the runner's). */
  platform?: Platform
  /** push: whether a tag may move to other content (false: only the same manifest again). */
  overwrite: boolean
  /** prune: what may go and what stays */
  prune: PruneInputs
}

const MODES: readonly Mode[] = ['push', 'pull', 'cache', 'prune']
const FORMATS: readonly Format[] = ['auto', 'directory', 'oci-layout', 'files']
const IF_NO_FILES_FOUND: readonly IfNoFilesFound[] = ['warn', 'error', 'ignore']
// RFC 6838 section 4.2: type "/" subtype, each restricted-name (1-127 chars).
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/
const DIGEST = /^sha256:[a-f0-9]{64}$/
// actions/cache's limit on key length; longer keys are refused there too.
const MAX_KEY_LENGTH = 512
// Tokens GitHub mints (ghs_ is the workflow's GITHUB_TOKEN); they belong to GitHub's registry only.
const GITHUB_TOKEN_PREFIX = /^(ghs_|ghp_|gho_|ghu_|ghr_|github_pat_)/
const GITHUB_REGISTRIES = new Set(['ghcr.io', 'docker.pkg.github.com'])

export const DEFAULT_ARTIFACT_TYPE = 'application/vnd.oci-artifact-action.directory.v1'

/** Reads and validates the inputs from the runner's environment. Masks the token at once. */
export function getInputs(): Inputs {
  const token = core.getInput('token')
  if (token) core.setSecret(token)
  return parseInputs(
    (name) => core.getInput(name),
    process.env,
    (message) => core.notice(message),
  )
}

/**
 * The pure half of getInputs: values in, a typed Inputs out, or an InputError naming the input.
 * `env` supplies the runner's GITHUB_* variables for defaults.
 */
export function parseInputs(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void = () => {},
): Inputs {
  const mode = oneOf('mode', read('mode').trim() || 'push', MODES)
  const format = oneOf('format', read('format').trim() || 'auto', FORMATS)
  const workspace = env.GITHUB_WORKSPACE || process.cwd()

  const { registry, repository } = readRepository(read('repository').trim(), mode, env)
  const pathInput = read('path').trim()
  const home = env.HOME || env.USERPROFILE || os.homedir()
  const paths = readPaths(pathInput, mode, { workspace, home })
  const first = paths.includes[0]?.pattern
  const dir = first ?? path.resolve(workspace, expandHome(pathInput, home) || '.')
  for (const include of paths.includes) {
    if (include.literal) refuseDanglingSymlink(include.pattern, include.given)
  }
  if (mode === 'pull') refuseDanglingSymlink(dir, pathInput)
  if (mode === 'pull' && existsAsNonDirectory(dir)) {
    throw new InputError('path', `'${pathInput}' exists and is not a directory`)
  }
  if (mode !== 'push' && format === 'files') {
    throw new InputError('format', `'files' is a push format (a pull saves file layers by their titles)`)
  }

  const tags = readTags(read('tag'), mode, env)
  const platform = readPlatform(read('platform'), mode, tags, format)
  const compressionLevel = readCompressionLevel(read('compression-level'))
  const annotations = readAnnotations(read('annotations'))
  const artifactType = read('artifact-type').trim() || DEFAULT_ARTIFACT_TYPE
  if (!MEDIA_TYPE.test(artifactType)) {
    throw new InputError(
      'artifact-type',
      `'${artifactType}' is not a media type like 'application/vnd.example+type'`,
    )
  }

  const key = read('key').trim()
  if (mode === 'cache') {
    if (!key) throw new InputError('key', 'is required in cache mode')
    if (key.length > MAX_KEY_LENGTH)
      throw new InputError('key', `is longer than ${MAX_KEY_LENGTH} characters`)
    if (key.includes(','))
      throw new InputError('key', `'${key}' contains a comma, which actions/cache refuses too`)
  }
  const restoreKeys = lines(read('restore-keys'))
  for (const prefix of restoreKeys) {
    if (prefix.length > MAX_KEY_LENGTH) {
      throw new InputError(
        'restore-keys',
        `'${prefix.slice(0, 40)}...' is longer than ${MAX_KEY_LENGTH} characters`,
      )
    }
  }

  return {
    mode,
    path: dir,
    paths,
    ifNoFilesFound: oneOf('if-no-files-found', read('if-no-files-found').trim() || 'warn', IF_NO_FILES_FOUND),
    includeHiddenFiles: readBoolean('include-hidden-files', read('include-hidden-files')),
    registry,
    repository,
    tags,
    tagGiven: read('tag').trim() !== '',
    format,
    credentials: readCredentials(read('username').trim(), read('token'), registry, notice),
    annotations,
    artifactType,
    compressionLevel,
    maxLayerSize: readMaxLayerSize(read('max-layer-size')),
    includeGit: readBoolean('include-git', read('include-git')),
    plainHttp: readPlainHttp(read('plain-http'), registry),
    key,
    restoreKeys,
    lookupOnly: readBoolean('lookup-only', read('lookup-only')),
    failOnCacheMiss: readBoolean('fail-on-cache-miss', read('fail-on-cache-miss')),
    cacheScope: readCacheScope(read('cache-scope').trim()),
    cacheUpdate: readBoolean('cache-update', read('cache-update')),
    platform,
    overwrite: read('overwrite').trim() === '' ? true : readBoolean('overwrite', read('overwrite')),
    prune: readPruneInputs(read, mode),
  }
}

/** `~/.npm` means the home directory, as in actions/cache (the runner does not expand it). */
function expandHome(value: string, home: string): string {
  if (value !== '~' && !value.startsWith('~/')) return value
  return path.join(home, value.slice(1))
}

/**
 * push and cache take upload-artifact's and actions/cache's lines (globs, `!` exclusions, `~`);
 * a pull writes to one directory, named literally.
 */
function readPaths(value: string, mode: Mode, context: { workspace: string; home: string }): PathPatterns {
  let paths: PathPatterns
  try {
    // prune reads no path; a pull's path is a destination, not patterns
    paths = parsePathInput(mode === 'pull' || mode === 'prune' ? '' : value, {
      ...context,
      pathApi: process.platform === 'win32' ? path.win32 : path.posix,
    })
  } catch (error) {
    if (error instanceof PathInputError) throw new InputError('path', error.message)
    throw error
  }
  if (mode === 'prune') return paths
  if (mode === 'pull') {
    if (value.includes('\n')) throw new InputError('path', `a pull writes to one directory, got '${value}'`)
    return paths
  }
  if (paths.includes.length === 0) {
    throw new InputError(
      'path',
      value ? `'${value}' names nothing but exclusions` : `is required in ${mode} mode`,
    )
  }
  return paths
}

function readCacheScope(value: string): string {
  if (value && !/^[A-Za-z0-9._/-]{1,100}$/.test(value)) {
    throw new InputError('cache-scope', `'${value}' is not up to 100 of [A-Za-z0-9._/-]`)
  }
  return value
}

/**
 * No repository input: the current repository on ghcr.io, and for caches a `/cache` package under
 * it, so cache tags never mix with the artifacts a push publishes.
 */
function readRepository(value: string, mode: Mode, env: NodeJS.ProcessEnv) {
  let input = value
  if (!input) {
    const current = env.GITHUB_REPOSITORY
    if (!current) throw new InputError('repository', 'is empty and GITHUB_REPOSITORY is not set')
    input = `${GHCR}/${current}${mode === 'cache' ? '/cache' : ''}`
  }
  try {
    return parseRepositoryInput(input)
  } catch (error) {
    throw new InputError('repository', (error as Error).message)
  }
}

function readTags(value: string, mode: Mode, env: NodeJS.ProcessEnv): string[] {
  const given = value
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean)
  // The default pairs a push and a later pull in the same workflow run: the run id is shared by
  // every job of the run and by its re-runs, so a re-run pull job still finds the first push.
  const tags = given.length > 0 ? given : [env.GITHUB_RUN_ID ? `run-${env.GITHUB_RUN_ID}` : 'latest']
  if (mode === 'pull') {
    if (tags.length > 1) throw new InputError('tag', `pull takes one tag or digest, got '${value.trim()}'`)
    const ref = tags[0] as string
    if (ref.startsWith('sha256:')) {
      if (!DIGEST.test(ref))
        throw new InputError('tag', `'${ref}' is not a sha256 digest (64 lowercase hex digits)`)
      return [ref]
    }
  }
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new InputError(
        'tag',
        `'${tag}' is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`,
      )
    }
  }
  return [...new Set(tags)]
}

// 4 GiB: well under ghcr.io's 10 GB layer cap even for data that will not compress, and a layer
// that size goes up inside ghcr.io's 10-minute upload limit at about 7 MB/s.
const DEFAULT_MAX_LAYER_SIZE = '4GiB'
// below this, a tree would split into absurdly many layers (and each costs a few requests)
const MIN_LAYER_SIZE = 2 ** 20

function readMaxLayerSize(value: string): number {
  const text = value.trim() || DEFAULT_MAX_LAYER_SIZE
  const bytes = parseByteSize(text)
  if (bytes === undefined)
    throw new InputError('max-layer-size', `'${text}' is not a size like 4GiB, 500MB or 1048576`)
  if (bytes < MIN_LAYER_SIZE) throw new InputError('max-layer-size', `'${text}' is below the minimum, 1MiB`)
  return bytes
}

function readCompressionLevel(value: string): number {
  const text = value.trim() || '6'
  if (!/^[0-9]$/.test(text))
    throw new InputError('compression-level', `'${text}' is not a whole number from 0 to 9`)
  return Number(text)
}

function readAnnotations(value: string): Record<string, string> {
  const annotations: Record<string, string> = {}
  for (const line of lines(value)) {
    const eq = line.indexOf('=')
    const key = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!key) throw new InputError('annotations', `'${line}' is not key=value`)
    annotations[key] = line.slice(eq + 1).trim()
  }
  return annotations
}

// GitHub's registries speak only https: plain http to them is a mistake, not a choice.
function readPlainHttp(value: string, registry: string): boolean {
  const plain = readBoolean('plain-http', value)
  if (plain && GITHUB_REGISTRIES.has(registry)) {
    throw new InputError('plain-http', `${registry} speaks only https: leave plain-http off for it`)
  }
  return plain
}

/**
 * An empty token means anonymous. The default token is the workflow's GITHUB_TOKEN, which must
 * never reach a registry other than GitHub's: for another host it is dropped unless the user
 * names a token meant for that registry.
 */
function readCredentials(
  username: string,
  token: string,
  registry: string,
  notice: (message: string) => void,
): Credentials | undefined {
  if (!token) return undefined
  if (GITHUB_TOKEN_PREFIX.test(token) && !GITHUB_REGISTRIES.has(registry)) {
    notice(
      `Not sending a GitHub token to ${registry}: set the 'token' input to that registry's own credential.`,
    )
    return undefined
  }
  // ghcr.io ignores the username for GITHUB_TOKEN but Basic auth needs one.
  return { username: username || 'token', password: token }
}

// A symlink to nothing would fail later with a bare ENOENT from wherever it is first followed.
function refuseDanglingSymlink(dir: string, given: string): void {
  let target: string
  try {
    if (!lstatSync(dir).isSymbolicLink() || existsSync(dir)) return
    target = readlinkSync(dir)
  } catch {
    return
  }
  throw new InputError('path', `'${given}' is a symlink to '${target}', which does not exist`)
}

function existsAsNonDirectory(dir: string): boolean {
  try {
    return !statSync(dir).isDirectory()
  } catch {
    return false
  }
}

function lines(value: string): string[] {
  return value
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
}
