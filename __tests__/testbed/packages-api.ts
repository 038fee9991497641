import { readdir, readFile, stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { close, listen } from './listen.js'

export interface PackagesApiOptions {
  /** The bed's registry (`http://127.0.0.1:PORT`), its token realm and service */
  registryUrl: string
  realm: string
  service: string
  /** The registry's filesystem storage root: versions are the manifests it holds */
  storageDir: string
  /** Registry users and secrets: owners' secrets are how the stand-in deletes in the registry */
  users: Record<string, string>
  /** Package owners and their kind; every owner must be a registry user */
  owners: Record<string, 'User' | 'Organization'>
  /** API tokens: who presents them and which owners' packages they administer (may delete) */
  tokens: Record<string, { login: string; admin: string[] }>
}

export interface ApiRequest {
  method: string
  /** As sent, percent-encoding kept: a package name must arrive as `repo%2Fcache` */
  rawPath: string
  status: number
}

export interface PackagesApi {
  /** What GITHUB_API_URL is set to */
  url: string
  requests: ApiRequest[]
  /** GitHub refuses to delete a public version downloaded over 5,000 times */
  setDownloads(repository: string, digest: string, downloads: number, isPublic?: boolean): void
  /** The next API request answers with this rate limit (primary: x-ratelimit-reset; secondary: Retry-After) */
  rateLimitNext(kind: 'primary' | 'secondary'): void
  /** The largest page served whatever per_page asks (GitHub's is 100), to make clients follow Link */
  setMaxPerPage(n: number): void
  stop(): Promise<void>
}

/**
 * A stand-in for the GitHub Packages REST endpoints the action calls (container packages only),
 * backed by the bed's registry: a package `name` of `owner` is the registry repository
 * `owner/name`, its versions are every manifest the registry stores for it (tagged or not, as
 * ghcr.io lists them), newest first, created_at being when the registry stored the manifest;
 * deleting a version deletes the manifest in the registry, by digest, which drops its tags.
 */
export async function startPackagesApi(o: PackagesApiOptions): Promise<PackagesApi> {
  const requests: ApiRequest[] = []
  const ids = new Map<string, number>()
  const byId = new Map<number, { repository: string; digest: string }>()
  const downloads = new Map<string, { count: number; isPublic: boolean }>()
  const limits: ('primary' | 'secondary')[] = []
  let nextId = 1000
  let maxPerPage = 100

  const idOf = (repository: string, digest: string): number => {
    const key = `${repository}@${digest}`
    let id = ids.get(key)
    if (id === undefined) {
      id = nextId++
      ids.set(key, id)
      byId.set(id, { repository, digest })
    }
    return id
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = (req.url ?? '/').split('?')[0] as string
    const record: ApiRequest = { method: req.method ?? 'GET', rawPath, status: 0 }
    requests.push(record)
    const reply = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      record.status = status
      send(res, status, body, headers)
    }

    const limit = limits.shift()
    if (limit === 'primary') {
      const reset = String(Math.ceil(Date.now() / 1000) + 1)
      return reply(
        403,
        { message: 'API rate limit exceeded for installation.' },
        {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': reset,
        },
      )
    }
    if (limit === 'secondary') {
      return reply(
        403,
        { message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' },
        {
          'retry-after': '1',
        },
      )
    }

    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    const caller = auth?.[1] ? o.tokens[auth[1]] : undefined
    if (!caller) return reply(401, { message: 'Bad credentials' })

    // Segments are split before decoding: an unencoded slash in a package name matches no route.
    const segments = rawPath.split('/').slice(1).map(decodeURIComponent)
    if (req.method === 'GET' && segments.length === 2 && segments[0] === 'users') {
      const login = segments[1] as string
      const type = o.owners[login]
      return type ? reply(200, { login, id: 1, type }) : reply(404, { message: 'Not Found' })
    }
    const [kind, owner, packages, type, packageName, versions, id, ...rest] = segments
    const ownerKind = kind === 'orgs' ? 'Organization' : kind === 'users' ? 'User' : undefined
    if (
      !ownerKind ||
      !owner ||
      o.owners[owner] !== ownerKind ||
      packages !== 'packages' ||
      type !== 'container' ||
      !packageName ||
      versions !== 'versions' ||
      rest.length > 0
    ) {
      return reply(404, { message: 'Not Found' })
    }
    const repository = `${owner}/${packageName}`
    const manifests = await storedManifests(o.storageDir, repository)
    if (manifests.length === 0) return reply(404, { message: 'Package not found.' })

    if (req.method === 'GET' && id === undefined) {
      const url = new URL(req.url ?? '/', 'http://api')
      const perPage = Math.min(maxPerPage, Number(url.searchParams.get('per_page') ?? 30) || 30)
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
      const all = manifests.sort((a, b) => b.created.getTime() - a.created.getTime())
      const items = all.slice((page - 1) * perPage, page * perPage).map((m) => ({
        id: idOf(repository, m.digest),
        name: m.digest,
        url: `${apiUrl}${rawPath}/${idOf(repository, m.digest)}`,
        package_html_url: `https://github.com/${owner}/packages`,
        created_at: m.created.toISOString(),
        updated_at: m.created.toISOString(),
        metadata: { package_type: 'container', container: { tags: m.tags } },
      }))
      const headers: Record<string, string> = {}
      if (page * perPage < all.length) {
        url.searchParams.set('page', String(page + 1))
        url.searchParams.set('per_page', String(perPage))
        headers.link = `<${apiUrl}${rawPath}?${url.searchParams}>; rel="next"`
      }
      return reply(200, items, headers)
    }

    if (req.method === 'DELETE' && id !== undefined) {
      const version = byId.get(Number(id))
      if (
        !version ||
        version.repository !== repository ||
        !manifests.some((m) => m.digest === version.digest)
      ) {
        return reply(404, { message: 'Not Found' })
      }
      if (!caller.admin.includes(owner))
        return reply(403, { message: 'Must have admin rights to Repository.' })
      const stats = downloads.get(`${repository}@${version.digest}`)
      if (stats && stats.isPublic && stats.count > 5000) {
        return reply(400, {
          message:
            'Publicly visible package versions with more than 5000 downloads cannot be deleted. ' +
            'Contact GitHub support for further assistance.',
        })
      }
      await deleteInRegistry(o, owner, repository, version.digest)
      return reply(204)
    }
    return reply(404, { message: 'Not Found' })
  }

  const port = await listen(server, '127.0.0.1')
  const apiUrl = `http://127.0.0.1:${port}`
  return {
    url: apiUrl,
    requests,
    setDownloads(repository, digest, count, isPublic = true) {
      downloads.set(`${repository}@${digest}`, { count, isPublic })
    },
    rateLimitNext(kind) {
      limits.push(kind)
    },
    setMaxPerPage(n) {
      maxPerPage = n
    },
    stop: () => close(server),
  }
}

interface StoredManifest {
  digest: string
  tags: string[]
  created: Date
}

/** Distribution's filesystem layout: _manifests/revisions/<alg>/<hex>/link, _manifests/tags/<tag>/current/link. */
async function storedManifests(storageDir: string, repository: string): Promise<StoredManifest[]> {
  const root = join(storageDir, 'docker/registry/v2/repositories', repository, '_manifests')
  const revisions = join(root, 'revisions', 'sha256')
  const found = new Map<string, StoredManifest>()
  for (const hex of await readdir(revisions).catch(() => [] as string[])) {
    const link = join(revisions, hex, 'link')
    const info = await stat(link).catch(() => undefined)
    if (info) found.set(`sha256:${hex}`, { digest: `sha256:${hex}`, tags: [], created: info.mtime })
  }
  const tagsDir = join(root, 'tags')
  for (const tag of await readdir(tagsDir).catch(() => [] as string[])) {
    const digest = (await readFile(join(tagsDir, tag, 'current', 'link'), 'utf8').catch(() => '')).trim()
    found.get(digest)?.tags.push(tag)
  }
  return [...found.values()]
}

/** As the package owner: a token with delete from the bed's token service, then the registry's DELETE. */
async function deleteInRegistry(o: PackagesApiOptions, owner: string, repository: string, digest: string) {
  const secret = o.users[owner]
  if (secret === undefined) throw new Error(`stand-in: no registry secret for ${owner}`)
  const tokenUrl = new URL(o.realm)
  tokenUrl.searchParams.set('service', o.service)
  tokenUrl.searchParams.set('scope', `repository:${repository}:delete`)
  const basic = Buffer.from(`${owner}:${secret}`).toString('base64')
  const tokenRes = await fetch(tokenUrl, { headers: { authorization: `Basic ${basic}` } })
  const { token } = (await tokenRes.json()) as { token: string }
  const res = await fetch(`${o.registryUrl}/v2/${repository}/manifests/${digest}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
  })
  await res.arrayBuffer()
  if (res.status !== 202) throw new Error(`stand-in: the registry answered ${res.status} to DELETE ${digest}`)
}

function send(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers)
    res.end()
    return
  }
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': bytes.length,
    ...headers,
  })
  res.end(bytes)
}
