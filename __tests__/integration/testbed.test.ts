import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { skopeo, startFaultProxy, startTestbed, writeOciLayout, type Testbed } from '../testbed/index.js'
import { registryConfig } from '../testbed/registry-config.js'
import { startRegistryProcess } from '../testbed/registry-process.js'

let bed: Testbed
let work: string
beforeAll(async () => {
  bed = await startTestbed()
  work = await mkdtemp(join(tmpdir(), 'testbed-test-'))
})
afterAll(async () => {
  await bed?.stop()
  await rm(work, { recursive: true, force: true })
})

const basic = (user: string, secret: string): string =>
  `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`

async function token(
  scopes: string[],
  authorization?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const query = new URLSearchParams({ service: bed.service })
  for (const scope of scopes) query.append('scope', scope)
  const res = await fetch(`${bed.realm}?${query}`, { headers: authorization ? { authorization } : {} })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

function claims(jwt: unknown): Record<string, unknown> {
  const payload = String(jwt).split('.')[1] ?? ''
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>
}

async function registryGet(path: string, bearer?: string, method = 'GET'): Promise<Response> {
  return fetch(`${bed.url}${path}`, {
    method,
    redirect: 'manual',
    headers: bearer ? { authorization: `Bearer ${bearer}` } : {},
  })
}

describe('registry', () => {
  test('challenges an anonymous client the way ghcr.io does: 401 with a Bearer realm and service', async () => {
    const res = await registryGet('/v2/')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="${bed.realm}",service="${bed.service}"`)
    expect(bed.registry).toMatch(/^127\.0\.0\.1:\d+$/)
  })

  test('names the scope it wants in the challenge for a repository request', async () => {
    const res = await registryGet('/v2/alice/x/tags/list')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('scope="repository:alice/x:pull"')
  })
})

describe('token service', () => {
  test('grants an owner pull and push on their own repository, in a JWT the registry accepts', async () => {
    const { status, body } = await token(['repository:alice/x:pull,push'], basic('alice', bed.users.alice!))
    expect(status).toBe(200)
    expect(body.access_token).toBe(body.token)
    const c = claims(body.token)
    expect(c).toMatchObject({ iss: 'testbed-token-service', sub: 'alice', aud: bed.service })
    expect(c.access).toEqual([{ type: 'repository', name: 'alice/x', actions: ['pull', 'push'] }])
    expect(Number(c.exp)).toBeGreaterThan(Number(c.iat))
    // Authenticated: the registry now says the repository is unknown instead of asking for a token.
    const res = await registryGet('/v2/alice/x/tags/list', String(body.token))
    expect(res.status).toBe(404)
    expect(await res.text()).toContain('NAME_UNKNOWN')
  })

  test('leaves out scopes outside the user namespace instead of refusing', async () => {
    const { status, body } = await token(
      ['repository:alice/x:pull,push', 'repository:bob/y:pull', 'registry:catalog:*'],
      basic('bob', bed.users.bob!),
    )
    expect(status).toBe(200)
    expect(claims(body.token).access).toEqual([{ type: 'repository', name: 'bob/y', actions: ['pull'] }])
  })

  test('answers a wrong secret with 401 and a JSON error', async () => {
    const before = bed.tokenRequests.length
    const { status, body } = await token(['repository:alice/x:pull'], basic('alice', 'not-the-secret'))
    expect(status).toBe(401)
    expect(body).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: expect.any(String) }] })
    expect(bed.tokenRequests.slice(before)).toEqual([
      { service: bed.service, scopes: ['repository:alice/x:pull'], granted: [], status: 401 },
    ])
  })

  test('gives an anonymous client a token without private access, which the registry refuses', async () => {
    const { status, body } = await token(['repository:alice/private:pull,push'])
    expect(status).toBe(200)
    expect(claims(body.token)).toMatchObject({ sub: '', access: [] })
    expect((await registryGet('/v2/alice/private/tags/list', String(body.token))).status).toBe(401)
  })

  test('grants anonymous pull, never push, once a repository is public', async () => {
    bed.setPublic('alice/open')
    const { body } = await token(['repository:alice/open:pull,push'])
    expect(claims(body.token).access).toEqual([{ type: 'repository', name: 'alice/open', actions: ['pull'] }])
    expect((await registryGet('/v2/alice/open/tags/list', String(body.token))).status).toBe(404)
    bed.setPublic('alice/open', false)
    expect(claims((await token(['repository:alice/open:pull'])).body.token).access).toEqual([])
  })

  test('grants no delete, as ghcr.io grants none through the registry API, unless a bed opts in', async () => {
    const own = basic('alice', bed.users.alice!)
    expect(claims((await token(['repository:alice/x:pull,delete'], own)).body.token).access).toEqual([
      { type: 'repository', name: 'alice/x', actions: ['pull'] },
    ])
    const other = await startTestbed({ users: { carol: 'carol-secret' }, allowDelete: true })
    try {
      const res = await fetch(`${other.realm}?service=${other.service}&scope=repository:carol/x:delete`, {
        headers: { authorization: basic('carol', 'carol-secret') },
      })
      const body = (await res.json()) as { token: string }
      expect(claims(body.token).access).toEqual([
        { type: 'repository', name: 'carol/x', actions: ['delete'] },
      ])
      expect(other.registry).not.toBe(bed.registry)
    } finally {
      await other.stop()
    }
  })

  test('records every request with its scopes and the user, for assertions', async () => {
    const before = bed.tokenRequests.length
    await token(['repository:alice/a:pull', 'repository:alice/b:push'], basic('alice', bed.users.alice!))
    expect(bed.tokenRequests.slice(before)).toEqual([
      {
        user: 'alice',
        service: bed.service,
        scopes: ['repository:alice/a:pull', 'repository:alice/b:push'],
        granted: [
          { type: 'repository', name: 'alice/a', actions: ['pull'] },
          { type: 'repository', name: 'alice/b', actions: ['push'] },
        ],
        status: 200,
      },
    ])
  })
})

describe('an artifact pushed by skopeo', () => {
  const layerData = Buffer.from('layer bytes served by the storage host\n'.repeat(100))
  const layerDigest = `sha256:${createHash('sha256').update(layerData).digest('hex')}`
  let pullToken: string

  beforeAll(async () => {
    const layout = join(work, 'layout')
    const written = await writeOciLayout(layout, {
      layers: [{ data: layerData }],
      artifactType: 'application/vnd.testbed.test',
      tag: 'v1',
    })
    expect(written.layers[0]?.digest).toBe(layerDigest)
    await skopeo(['copy', `oci:${layout}:v1`, `docker://${bed.registry}/alice/x:v1`], {
      creds: `alice:${bed.users.alice}`,
    })
    pullToken = String(
      (await token(['repository:alice/x:pull'], basic('alice', bed.users.alice!))).body.token,
    )
  })

  test('is in the registry under its tag, and its blob on disk where blobPath says', async () => {
    const raw = await skopeo(['inspect', '--raw', `docker://${bed.registry}/alice/x:v1`], {
      creds: `alice:${bed.users.alice}`,
    })
    expect(JSON.parse(raw).layers[0].digest).toBe(layerDigest)
    expect(await readFile(bed.blobPath(layerDigest))).toEqual(layerData)
  })

  test('cannot be pushed anonymously', async () => {
    await expect(
      skopeo(['copy', `oci:${join(work, 'layout')}:v1`, `docker://${bed.registry}/alice/anonymous:v1`]),
    ).rejects.toThrow(/unauthorized|denied|authentication required/i)
  })

  test('has its blob GET redirected to the storage host on 127.0.0.2, like ghcr.io', async () => {
    const res = await registryGet(`/v2/alice/x/blobs/${layerDigest}`, pullToken)
    expect(res.status).toBe(307)
    const location = new URL(res.headers.get('location') ?? '')
    expect(location.hostname).toBe('127.0.0.2')
    expect(location.pathname).toMatch(new RegExp(`/blobs/sha256/../${layerDigest.slice(7)}/data$`))
  })

  test('is served by the storage host without credentials, range requests included', async () => {
    const location = (await registryGet(`/v2/alice/x/blobs/${layerDigest}`, pullToken)).headers.get(
      'location',
    )!
    const whole = await fetch(location)
    expect(whole.status).toBe(200)
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(layerData)
    const tail = await fetch(location, { headers: { range: 'bytes=10-' } })
    expect(tail.status).toBe(206)
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(layerData.subarray(10))
  })

  test('is refused by the storage host to a request that carries an Authorization header', async () => {
    const location = (await registryGet(`/v2/alice/x/blobs/${layerDigest}`, pullToken)).headers.get(
      'location',
    )!
    const before = bed.storageRequests.length
    const res = await fetch(location, { headers: { authorization: `Bearer ${pullToken}` } })
    expect(res.status).toBe(403)
    expect(bed.storageRequests.slice(before)).toEqual([
      { method: 'GET', path: new URL(location).pathname, authorization: true, status: 403 },
    ])
  })

  test('downloads through fetch following the redirect, which drops the token across origins', async () => {
    const before = bed.storageRequests.length
    const res = await fetch(`${bed.url}/v2/alice/x/blobs/${layerDigest}`, {
      headers: { authorization: `Bearer ${pullToken}` },
    })
    expect(res.status).toBe(200)
    expect(Buffer.from(await res.arrayBuffer())).toEqual(layerData)
    expect(bed.storageRequests.slice(before)).toEqual([
      expect.objectContaining({ authorization: false, status: 200 }),
    ])
  })

  test('fails the next downloads from the storage host as queued: 503, reset, then a body cut short', async () => {
    const location = (await registryGet(`/v2/alice/x/blobs/${layerDigest}`, pullToken)).headers.get(
      'location',
    )!
    bed.failStorage('503', 'reset', 'truncate')
    expect((await fetch(location)).status).toBe(503)
    await expect(fetch(location)).rejects.toThrow()
    const cut = await fetch(location)
    expect(cut.status).toBe(200)
    expect(Number(cut.headers.get('content-length'))).toBe(layerData.length)
    await expect(cut.arrayBuffer()).rejects.toThrow()
    // The queue is used up: the next download is whole again.
    expect(Buffer.from(await (await fetch(location)).arrayBuffer())).toEqual(layerData)
    expect(bed.storageRequests.slice(-4).map((r) => r.fault)).toEqual(['503', 'reset', 'truncate', undefined])
  })
})

describe('fault proxy', () => {
  async function outcomes(registry: string, n: number): Promise<string[]> {
    const seen: string[] = []
    for (let i = 0; i < n; i++) {
      try {
        seen.push(String((await fetch(`http://${registry}/v2/`)).status))
      } catch {
        seen.push('reset')
      }
    }
    return seen
  }

  test('answers a share of requests with 503 or a reset, the same ones for the same seed', async () => {
    const options = { target: bed.registry, failRate: 0.5, seed: 42, faults: ['503', 'reset'] as const }
    const first = await startFaultProxy({ ...options, faults: [...options.faults] })
    const second = await startFaultProxy({ ...options, faults: [...options.faults] })
    try {
      const a = await outcomes(first.registry, 40)
      const b = await outcomes(second.registry, 40)
      expect(a).toEqual(b)
      expect(a).toContain('503')
      expect(a).toContain('reset')
      // The rest reach the registry, which challenges them.
      expect(a).toContain('401')
      expect(first.faultCount).toBe(a.filter((o) => o !== '401').length)
      expect(first.requests.filter((r) => r.fault).length).toBe(first.faultCount)
    } finally {
      await Promise.all([first.stop(), second.stop()])
    }
  })

  test('never fails more requests in a row than maxConsecutive, nor more than maxFaults', async () => {
    const proxy = await startFaultProxy({
      target: bed.url,
      failRate: 1,
      faults: ['503'],
      maxConsecutive: 2,
      maxFaults: 4,
    })
    try {
      expect(await outcomes(proxy.registry, 8)).toEqual([
        '503',
        '503',
        '401',
        '503',
        '503',
        '401',
        '401',
        '401',
      ])
    } finally {
      await proxy.stop()
    }
  })

  test('faults only the requests `eligible` accepts', async () => {
    const proxy = await startFaultProxy({
      target: bed.registry,
      failRate: 1,
      faults: ['429'],
      maxConsecutive: 100,
      eligible: ({ method }) => method === 'HEAD',
    })
    try {
      expect((await fetch(`${proxy.url}/v2/`)).status).toBe(401)
      const head = await fetch(`${proxy.url}/v2/`, { method: 'HEAD' })
      expect(head.status).toBe(429)
      expect(head.headers.get('retry-after')).toBe('1')
    } finally {
      await proxy.stop()
    }
  })

  test('truncate forwards the request and cuts the body of the answer halfway', async () => {
    const proxy = await startFaultProxy({
      target: bed.registry,
      failRate: 1,
      faults: ['truncate'],
      maxConsecutive: 1,
    })
    try {
      const cut = await fetch(`${proxy.url}/v2/`)
      expect(cut.status).toBe(401)
      await expect(cut.text()).rejects.toThrow()
      const whole = await fetch(`${proxy.url}/v2/`)
      expect(await whole.text()).toContain('UNAUTHORIZED')
      expect(proxy.requests.map((r) => r.fault)).toEqual(['truncate', undefined])
    } finally {
      await proxy.stop()
    }
  })

  test('keeps the Host header, so upload Locations lead back through the proxy', async () => {
    const proxy = await startFaultProxy({ target: bed.registry, failRate: 0, faults: [] })
    try {
      const { body } = await token(
        ['repository:alice/through-proxy:pull,push'],
        basic('alice', bed.users.alice!),
      )
      const res = await fetch(`${proxy.url}/v2/alice/through-proxy/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${String(body.token)}` },
      })
      expect(res.status).toBe(202)
      expect(new URL(res.headers.get('location') ?? '').host).toBe(proxy.registry)
      expect(proxy.requests.map(({ method, path, status }) => ({ method, path, status }))).toEqual([
        { method: 'POST', path: '/v2/alice/through-proxy/blobs/uploads/', status: 202 },
      ])
    } finally {
      await proxy.stop()
    }
  })
})

describe('a registry that cannot start', () => {
  test('is killed, and the error carries the tail of its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'testbed-fail-'))
    // Holds the port and never answers, as a foreign process would.
    const held: Socket[] = []
    const taken = createServer((socket) => void held.push(socket))
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    try {
      const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`
      const configFile = join(dir, 'registry.json')
      const config = registryConfig({
        storageDir: join(dir, 'storage'),
        address,
        realm: 'http://127.0.0.1:9/token',
        service: 's',
        issuer: 'i',
        rootCertBundle: '/dev/null',
        storageBaseUrl: 'http://127.0.0.2:9',
        secret: 'x',
      })
      await writeFile(configFile, config)
      await expect(
        startRegistryProcess(configFile, join(dir, 'registry.log'), `http://${address}`),
      ).rejects.toThrow(/did not start[\s\S]*registry\.log \(tail\)/)
      // pgrep exits 1 when no process matches: nothing left running on that config.
      expect(() => execFileSync('pgrep', ['-f', configFile])).toThrow()
    } finally {
      held.forEach((socket) => socket.destroy())
      taken.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
