import type { RegistryHints } from '../../oci/errors.js'
import { InvalidReferenceError, parseRepository } from '../../oci/reference.js'
import type { Credentials } from '../../oci/repository.js'
import { InputError, readBoolean, type ReadInput } from './readers.js'

// GitHub's registry and its policies: what src/oci/ is told, never knows.
export const GHCR = 'ghcr.io'
const GITHUB_REGISTRIES = new Set([GHCR, 'docker.pkg.github.com'])
// Tokens GitHub mints (ghs_ is the workflow's GITHUB_TOKEN); they belong to GitHub's registry only.
const GITHUB_TOKEN_PREFIX = /^(ghs_|ghp_|gho_|ghu_|ghr_|github_pat_)/

// ghcr.io's causes are specific enough to name: the job's permissions and the package's settings.
const GHCR_HINTS: RegistryHints = {
  pushDenied:
    'To push with GITHUB_TOKEN, give the job `permissions: packages: write`; if the package already ' +
    'exists, also add this repository with the Write role in the package settings under "Manage Actions access"',
  pullDenied:
    'For a private package, give the job `permissions: packages: read` and, in the package settings ' +
    'under "Manage Actions access", grant this repository access',
  deleteUnsupported:
    'ghcr.io does not delete manifests through the registry API: its versions are deleted through the GitHub Packages API',
}

/** The hints for a refusal by `registry`: ghcr.io's, or the library's generic ones. */
export function registryHints(registry: string): RegistryHints | undefined {
  return registry === GHCR ? GHCR_HINTS : undefined
}

/** Where every mode goes and how it gets in: `repository`, `username`, `token`, `plain-http`. */
export interface RegistryTarget {
  registry: string
  repository: string
  credentials?: Credentials
  /** Plain http to `registry` although it is not a loopback host (`plain-http`). */
  plainHttp: boolean
}

/**
 * No repository input: the current repository on ghcr.io, with `packageSuffix` (the cache's
 * `/cache` package, so cache tags never mix with the artifacts a push publishes).
 */
export function readRegistryTarget(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void,
  packageSuffix = '',
): RegistryTarget {
  const { registry, repository } = readRepository(read('repository').trim(), env, packageSuffix)
  return {
    registry,
    repository,
    credentials: readCredentials(read('username').trim(), read('token'), registry, notice),
    plainHttp: readPlainHttp(read('plain-http'), registry),
  }
}

function readRepository(value: string, env: NodeJS.ProcessEnv, packageSuffix: string) {
  let input = value
  if (!input) {
    const current = env.GITHUB_REPOSITORY
    if (!current) throw new InputError('repository', 'is empty and GITHUB_REPOSITORY is not set')
    input = `${GHCR}/${current}${packageSuffix}`
  }
  try {
    return parseRepositoryInput(input)
  } catch (error) {
    throw new InputError('repository', (error as Error).message)
  }
}

/** `[host/]owner/name`: no host means ghcr.io, where a package is always OWNER/NAME. */
export function parseRepositoryInput(input: string): { registry: string; repository: string } {
  const parsed = parseRepository(input, { defaultRegistry: GHCR })
  if (parsed.registry === GHCR && !parsed.repository.includes('/')) {
    throw new InvalidReferenceError(input, 'a ghcr.io repository is OWNER/NAME')
  }
  return parsed
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
