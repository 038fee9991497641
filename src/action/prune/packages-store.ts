import { getOctokit } from '@actions/github'
import { throttling } from '@octokit/plugin-throttling'
import type { Logger } from '../../oci/logger.js'
import { VersionRefusedError, type StoredVersion, type VersionStore } from '../../prune/index.js'

export interface PackagesStoreOptions {
  /** The workflow's token: GITHUB_TOKEN with `packages: write`, or a PAT with delete:packages */
  token: string
  /** `owner/name[/more]` on ghcr.io: the package is `name[/more]` of `owner` */
  repository: string
  /** GITHUB_API_URL: api.github.com, a GHES host, or the test suite's stand-in */
  baseUrl: string
  logger: Logger
  userAgent: string
}

// A rate limit that resets later than this is reported, not waited out: a scheduled cleanup can
// run again, while a job that sleeps an hour holds a runner for nothing.
const MAX_RATE_LIMIT_WAIT_S = 15 * 60
const MAX_RATE_LIMIT_RETRIES = 3

const DELETE_DENIED =
  'To delete package versions with GITHUB_TOKEN, give the job `permissions: packages: write`, and give ' +
  'this repository the Admin role on the package (package settings -> Manage Actions access -> Role: Admin)'

interface ApiVersion {
  id: number
  name: string
  created_at?: string
  metadata?: { container?: { tags?: string[] } }
}

/**
 * GitHub's Packages REST API as a version store (ghcr.io deletes nothing through the registry
 * API): versions with their tags and push times, deleted by id. The owner's kind is looked up
 * once, since organizations and users have their own endpoints; Octokit percent-encodes the
 * package name (`repo/cache` -> `repo%2Fcache`), pages through the list, and the throttling
 * plugin waits out rate limits (Retry-After, x-ratelimit-reset) as GitHub asks.
 */
export function packagesApiStore(o: PackagesStoreOptions): VersionStore {
  const slash = o.repository.indexOf('/')
  const owner = o.repository.slice(0, slash)
  const packageName = o.repository.slice(slash + 1)
  const retry =
    (what: string) => (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) => {
      if (retryCount >= MAX_RATE_LIMIT_RETRIES || retryAfter > MAX_RATE_LIMIT_WAIT_S) return false
      o.logger.warning(`GitHub API ${what}: waiting ${retryAfter} s as asked`)
      return true
    }
  const octokit = getOctokit(
    o.token,
    {
      baseUrl: o.baseUrl,
      userAgent: o.userAgent,
      throttle: { onRateLimit: retry('rate limit'), onSecondaryRateLimit: retry('secondary rate limit') },
    },
    throttling,
  )
  let base: Promise<string> | undefined
  // /orgs/{org}/packages/... or /users/{username}/packages/..., with the name encoded as one segment
  const versionsPath = () =>
    (base ??= (async () => {
      const { data } = await octokit
        .request('GET /users/{username}', { username: owner })
        .catch((error: unknown) => {
          throw apiError(error, `look up the owner ${owner}`)
        })
      return data.type === 'Organization'
        ? `/orgs/${encodeURIComponent(owner)}`
        : `/users/${encodeURIComponent(owner)}`
    })())
  const versionsUrl = async () =>
    `${await versionsPath()}/packages/container/${encodeURIComponent(packageName)}/versions`

  return {
    name: `the GitHub Packages API (${owner}'s container package ${packageName})`,
    listsUntagged: true,
    async list() {
      const url = await versionsUrl()
      const versions = await octokit
        .paginate<ApiVersion>(`GET ${url}`, { per_page: 100 })
        .catch((error: unknown) => {
          throw apiError(error, `list the versions of ${owner}/${packageName}`)
        })
      return versions.map((v) => {
        const version: StoredVersion = {
          id: String(v.id),
          digest: v.name,
          tags: v.metadata?.container?.tags ?? [],
        }
        const created = v.created_at ? Date.parse(v.created_at) : NaN
        if (!Number.isNaN(created)) version.created = new Date(created)
        return version
      })
    },
    async delete(version) {
      const url = `${await versionsUrl()}/${encodeURIComponent(version.id)}`
      try {
        await octokit.request(`DELETE ${url}`)
      } catch (error) {
        const status = statusOf(error)
        if (status === 404) return // gone already
        // 400: GitHub will not delete this one (a public version downloaded over 5,000 times)
        if (status === 400 || status === 409 || status === 422)
          throw new VersionRefusedError(version, messageOf(error))
        throw apiError(error, `delete version ${version.id} (${version.digest}) of ${owner}/${packageName}`)
      }
    },
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown })?.status
  return typeof status === 'number' ? status : undefined
}

function messageOf(error: unknown): string {
  const data = (error as { response?: { data?: { message?: unknown } } })?.response?.data
  return typeof data?.message === 'string' ? data.message : (error as Error).message
}

/** The API's refusal, said as what to do about it; the token never appears in it. */
function apiError(error: unknown, what: string): Error {
  const status = statusOf(error)
  let hint = ''
  if (status === 401 || status === 403) hint = `. ${DELETE_DENIED}`
  if (status === 404) {
    hint =
      '. No such package, or the token cannot see it: check `repository`, and give the job `permissions: ' +
      'packages: read` (private packages also need this repository under Manage Actions access)'
  }
  return new Error(`GitHub Packages API: could not ${what}: ${status ?? ''} ${messageOf(error)}${hint}`, {
    cause: error,
  })
}
