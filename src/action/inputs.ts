import * as core from '@actions/core'
import { statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isValidTag, parseRepository } from '../oci/reference.js'
import type { Credentials } from '../oci/repository.js'

export type Mode = 'push' | 'pull' | 'cache'
export type Format = 'auto' | 'directory' | 'oci-layout'

/** Everything the action reads from the runner, validated before any network work. */
export interface Inputs {
  mode: Mode
  /** Absolute path of the directory to pack, extract into, or cache. */
  path: string
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
}

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

const MODES: readonly Mode[] = ['push', 'pull', 'cache']
const FORMATS: readonly Format[] = ['auto', 'directory', 'oci-layout']
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
  const dir = path.resolve(workspace, expandHome(pathInput, env) || (mode === 'pull' ? '.' : ''))
  if (mode !== 'pull' && !pathInput) throw new InputError('path', `is required in ${mode} mode`)
  if (mode === 'push') requireDirectory(dir, pathInput)
  if (mode === 'pull' && existsAsNonDirectory(dir)) {
    throw new InputError('path', `'${pathInput}' exists and is not a directory`)
  }

  const tags = readTags(read('tag'), mode, env)
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
    registry,
    repository,
    tags,
    tagGiven: read('tag').trim() !== '',
    format,
    credentials: readCredentials(read('username').trim(), read('token'), registry, notice),
    annotations,
    artifactType,
    compressionLevel,
    includeGit: readBoolean('include-git', read('include-git')),
    plainHttp: readPlainHttp(read('plain-http'), registry),
    key,
    restoreKeys,
    lookupOnly: readBoolean('lookup-only', read('lookup-only')),
    failOnCacheMiss: readBoolean('fail-on-cache-miss', read('fail-on-cache-miss')),
    cacheScope: readCacheScope(read('cache-scope').trim()),
    cacheUpdate: readBoolean('cache-update', read('cache-update')),
  }
}

/** `~/.npm` means the home directory, as in actions/cache (the runner does not expand it). */
function expandHome(value: string, env: NodeJS.ProcessEnv): string {
  if (value !== '~' && !value.startsWith('~/')) return value
  return path.join(env.HOME || os.homedir(), value.slice(1))
}

function readCacheScope(value: string): string {
  if (value && !/^[A-Za-z0-9._/-]{1,100}$/.test(value)) {
    throw new InputError('cache-scope', `'${value}' is not up to 100 of [A-Za-z0-9._/-]`)
  }
  return value
}

function oneOf<T extends string>(input: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new InputError(input, `'${value}' is not one of ${allowed.join(', ')}`)
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
    input = `ghcr.io/${current}${mode === 'cache' ? '/cache' : ''}`
  }
  try {
    return parseRepository(input)
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

function readBoolean(input: string, value: string): boolean {
  const text = value.trim().toLowerCase()
  if (text === '' || text === 'false') return false
  if (text === 'true') return true
  throw new InputError(input, `'${value.trim()}' is not true or false`)
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

function requireDirectory(dir: string, given: string): void {
  try {
    if (statSync(dir).isDirectory()) return
  } catch {
    throw new InputError('path', `'${given}' does not exist (resolved to ${dir})`)
  }
  throw new InputError('path', `'${given}' is not a directory`)
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
