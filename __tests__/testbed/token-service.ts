import type { IncomingMessage, ServerResponse } from 'node:http'
import { close, listen } from './listen.js'
import type { Access, SigningKey } from './signing-key.js'
import { serverFor, type ServerTls } from './storage-host.js'

/** One request to the token endpoint, kept so tests can assert which scopes a client asked for. */
export interface TokenRequest {
  /** The authenticated user, undefined for an anonymous request (or one with bad credentials). */
  user?: string
  service?: string
  scopes: string[]
  granted: Access[]
  status: number
}

export interface TokenServiceOptions {
  host: string
  service: string
  issuer: string
  users: Record<string, string>
  key: SigningKey
  ttlSeconds: number
  /** Owners may also delete (ghcr.io grants no delete through the registry API, hence opt-in). */
  allowDelete: boolean
  /** Serve https with this certificate. */
  tls?: ServerTls
}

export interface TokenService {
  realm: string
  requests: TokenRequest[]
  setPublic(repository: string, isPublic?: boolean): void
  stop(): Promise<void>
}

/**
 * A token endpoint that answers like ghcr.io's: Basic `user:secret` earns pull and push under
 * `user/`, anyone gets pull on public repositories, and scopes beyond that are silently left out
 * of the token (the registry then refuses the request), never refused here.
 */
export async function startTokenService(o: TokenServiceOptions): Promise<TokenService> {
  const publicRepositories = new Set<string>()
  const requests: TokenRequest[] = []

  const server = serverFor(o.tls, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://token')
    if (url.pathname !== '/token') return sendJson(res, 404, errors('NOT_FOUND', 'no such endpoint'))
    if (req.method !== 'GET') return sendJson(res, 405, errors('UNSUPPORTED', 'only GET /token'))

    const service = url.searchParams.get('service') ?? undefined
    // Clients repeat `scope`; some join several with spaces in one parameter (the spec allows both).
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ').filter(Boolean))
    const record: TokenRequest = { service, scopes, granted: [], status: 200 }
    requests.push(record)

    const credentials = basicCredentials(req)
    if (credentials && o.users[credentials.user] !== credentials.secret) {
      record.status = 401
      return sendJson(res, 401, errors('UNAUTHORIZED', 'invalid username or secret'))
    }
    if (service !== undefined && service !== o.service) {
      record.status = 400
      return sendJson(res, 400, errors('INVALID_REQUEST', `unknown service ${JSON.stringify(service)}`))
    }
    record.user = credentials?.user
    record.granted = grant(scopes, credentials?.user)

    const token = o.key.signToken({
      issuer: o.issuer,
      subject: credentials?.user ?? '',
      audience: o.service,
      ttlSeconds: o.ttlSeconds,
      access: record.granted,
    })
    sendJson(res, 200, {
      token,
      access_token: token,
      expires_in: o.ttlSeconds,
      issued_at: new Date().toISOString(),
    })
  })

  function grant(scopes: string[], user: string | undefined): Access[] {
    const granted: Access[] = []
    for (const scope of scopes) {
      const parsed = parseScope(scope)
      if (!parsed || parsed.type !== 'repository') continue
      const allowed = new Set<string>()
      if (user !== undefined && parsed.name.startsWith(`${user}/`)) {
        allowed.add('pull').add('push')
        if (o.allowDelete) allowed.add('delete')
      }
      if (publicRepositories.has(parsed.name)) allowed.add('pull')
      const actions = parsed.actions.filter((a) => allowed.has(a))
      if (actions.length > 0) granted.push({ type: parsed.type, name: parsed.name, actions })
    }
    return granted
  }

  const port = await listen(server, o.host)
  return {
    realm: `${o.tls ? 'https' : 'http'}://${o.host}:${port}/token`,
    requests,
    setPublic(repository, isPublic = true) {
      if (isPublic) publicRepositories.add(repository)
      else publicRepositories.delete(repository)
    },
    stop: () => close(server),
  }
}

/** `repository:alice/x:pull,push`; a name holds no colon, so the first and last colons split it. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first < 0 || last === first) return undefined
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  }
}

function basicCredentials(req: IncomingMessage): { user: string; secret: string } | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  if (!match?.[1]) return undefined
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon < 0
    ? { user: decoded, secret: '' }
    : { user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) }
}

function errors(code: string, message: string): unknown {
  return { errors: [{ code, message }] }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length })
  res.end(bytes)
}
