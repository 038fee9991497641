export interface RegistryTarget {
  /** `127.0.0.1:PORT` */
  registry: string
  /** `alice/bench` */
  repository: string
  username: string
  password: string
  /** The throwaway CA of a bed served over https (the shaped link's); absent: plain http. */
  caFile?: string
}

/** `https://HOST:PORT` for a bed with a CA, else `http://HOST:PORT`. */
export function registryUrl(target: Pick<RegistryTarget, 'registry' | 'caFile'>): string {
  return `${target.caFile ? 'https' : 'http'}://${target.registry}`
}

/**
 * The Authorization header for plain HTTP calls to the registry (the baseline's curl upload and
 * download): the token exchange any client does, answering the Bearer challenge of GET /v2/. A
 * registry without auth gets no header. `send` is a fetch that trusts the bed's CA: the global one
 * does where the process started with NODE_EXTRA_CA_CERTS (the actions/cache steps); the harness
 * passes its own (tls-fetch.ts).
 */
export async function authorizationFor(
  target: RegistryTarget,
  actions: string,
  send: typeof fetch = fetch,
): Promise<string | undefined> {
  const challenge = await send(`${registryUrl(target)}/v2/`)
  await challenge.body?.cancel()
  if (challenge.status !== 401) return undefined
  const header = challenge.headers.get('www-authenticate') ?? ''
  const params = Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
  if (!header.startsWith('Bearer ') || !params.realm) throw new Error(`unexpected challenge: ${header}`)
  const url = new URL(params.realm)
  if (params.service) url.searchParams.set('service', params.service)
  url.searchParams.set('scope', `repository:${target.repository}:${actions}`)
  const basic = Buffer.from(`${target.username}:${target.password}`).toString('base64')
  const response = await send(url, { headers: { authorization: `Basic ${basic}` } })
  if (!response.ok) throw new Error(`token request failed: ${response.status} ${await response.text()}`)
  const body = (await response.json()) as { token?: string; access_token?: string }
  const token = body.token ?? body.access_token
  if (!token) throw new Error('token response without a token')
  return `Bearer ${token}`
}
