import { describe, expect, test } from '@jest/globals'
import { RegistryError } from '../../../../src/oci/errors.js'
import { silentLogger } from '../../../../src/oci/logger.js'
import {
  AuthError,
  checkRealm,
  mergeScopes,
  RealmError,
  withAuth,
} from '../../../../src/oci/transport/auth.js'
import { withRedirects } from '../../../../src/oci/transport/redirect.js'
import type { SendRequest } from '../../../../src/oci/transport/send.js'
import { answer, scriptedSend } from '../scripted-send.js'

const REGISTRY = 'registry.example'
const URL_ = `https://${REGISTRY}/v2/o/n/manifests/v1`
const CHALLENGE = {
  'www-authenticate':
    'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:o/n:pull"',
}
const token = (value: string, expiresIn?: number) =>
  answer(200, {}, JSON.stringify({ token: value, ...(expiresIn ? { expires_in: expiresIn } : {}) }))
const get: SendRequest = { method: 'GET', url: URL_, headers: {} }
const alice = { username: 'alice', password: 's3cret' }

function authed(
  steps: Parameters<typeof scriptedSend>[0],
  o: { credentials?: typeof alice; now?: () => number } = {},
) {
  const script = scriptedSend(steps)
  const send = withAuth(script.send, {
    registry: REGISTRY,
    scopes: ['repository:o/n:pull,push'],
    logger: silentLogger,
    ...o,
  })
  return { ...script, send }
}

describe('bearer', () => {
  test('answers a 401 challenge with a token for the whole operation, then reuses it', async () => {
    const { send, requests } = authed([answer(401, CHALLENGE), token('T1'), answer(200), answer(201)], {
      credentials: alice,
    })
    expect((await send(get)).status).toBe(200)
    expect((await send({ ...get, method: 'PUT' })).status).toBe(201)
    const tokenUrl = new URL(requests[1]!.url)
    expect(tokenUrl.origin + tokenUrl.pathname).toBe('https://auth.example/token')
    expect(tokenUrl.searchParams.get('service')).toBe('registry.example')
    // the challenge's pull folds into the operation's pull,push: one scope, asked once
    expect(tokenUrl.searchParams.getAll('scope')).toEqual(['repository:o/n:pull,push'])
    expect(requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`)
    expect(requests[2]!.headers.authorization).toBe('Bearer T1')
    expect(requests[3]!.headers.authorization).toBe('Bearer T1')
  })

  test('asks anonymously when it has no credentials', async () => {
    const { send, requests } = authed([answer(401, CHALLENGE), token('anon'), answer(200)])
    await send(get)
    expect(requests[1]!.headers.authorization).toBeUndefined()
    expect(requests[2]!.headers.authorization).toBe('Bearer anon')
  })

  test('concurrent requests share one token exchange', async () => {
    const steps = [
      answer(401, CHALLENGE),
      answer(401, CHALLENGE),
      answer(401, CHALLENGE),
      token('T'),
      answer(200),
      answer(200),
      answer(200),
    ]
    const { send, requests } = authed(steps)
    await Promise.all([send(get), send(get), send(get)])
    expect(requests.filter((r) => r.url.startsWith('https://auth.example')).length).toBe(1)
  })

  test('a request that needs more scopes gets a token of its own; the operation token stays cached', async () => {
    const { send, requests } = authed([
      answer(401, CHALLENGE),
      token('T1'),
      answer(200),
      token('T2'),
      answer(201),
      answer(200),
    ])
    await send(get)
    await send({ ...get, method: 'POST', scopes: ['repository:other/repo:pull'] })
    await send(get)
    expect(new URL(requests[3]!.url).searchParams.getAll('scope')).toEqual([
      'repository:o/n:pull,push',
      'repository:other/repo:pull',
    ])
    expect(requests[4]!.headers.authorization).toBe('Bearer T2')
    expect(requests[5]!.headers.authorization).toBe('Bearer T1')
  })

  test('an expired token is replaced before use', async () => {
    let now = 0
    const { send, requests } = authed(
      [answer(401, CHALLENGE), token('T1', 60), answer(200), token('T2', 60), answer(200)],
      {
        now: () => now,
      },
    )
    await send(get)
    now = 61_000
    await send(get)
    expect(requests[4]!.headers.authorization).toBe('Bearer T2')
  })

  test('a token refused mid-operation is exchanged once more, then the 401 is the answer', async () => {
    const { send, requests } = authed([
      answer(401, CHALLENGE),
      token('T1'),
      answer(200),
      answer(401, CHALLENGE), // T1 revoked
      token('T2'),
      answer(200),
      answer(401, CHALLENGE), // T2 refused as well
      token('T3'),
      answer(401, CHALLENGE),
    ])
    expect((await send(get)).status).toBe(200)
    expect((await send(get)).status).toBe(200)
    expect(requests[5]!.headers.authorization).toBe('Bearer T2')
    expect((await send(get)).status).toBe(401)
    expect(requests).toHaveLength(9)
  })

  test('a refused token exchange is a RegistryError with the registry codes and a hint', async () => {
    const refused = answer(
      401,
      {},
      JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }),
    )
    const { send } = authed([answer(401, CHALLENGE), refused], { credentials: alice })
    const error = (await send(get).catch((e: unknown) => e)) as RegistryError
    expect(error).toBeInstanceOf(RegistryError)
    expect(error.status).toBe(401)
    expect(error.codes).toEqual([{ code: 'UNAUTHORIZED', message: 'bad credentials' }])
    expect(error.message).not.toContain('s3cret')
    expect(error.hint).toMatch(/push/)
  })

  test('a token response without a token is an AuthError', async () => {
    const { send } = authed([answer(401, CHALLENGE), answer(200, {}, '{}')])
    await expect(send(get)).rejects.toThrow(AuthError)
  })

  test('refuses a plain http realm for an https registry, before sending credentials anywhere', async () => {
    const challenge = { 'www-authenticate': 'Bearer realm="http://auth.example/token",service="x"' }
    const { send, requests } = authed([answer(401, challenge)], { credentials: alice })
    await expect(send(get)).rejects.toThrow(/refusing token realm http:\/\/auth.example\/token/)
    expect(requests).toHaveLength(1)
  })

  test('leaves requests to other origins alone', async () => {
    const { send, requests } = authed([answer(401, CHALLENGE), token('T'), answer(200), answer(200)])
    await send(get)
    await send({ method: 'GET', url: 'https://storage.example/blob', headers: {} })
    expect(requests[3]!.headers.authorization).toBeUndefined()
  })
})

describe('a 401 from a redirect target', () => {
  // auth sits above the redirect layer, as in client.ts: it sees the last hop's answer
  function redirected(steps: Parameters<typeof scriptedSend>[0]) {
    const script = scriptedSend(steps)
    const send = withAuth(withRedirects(script.send, { logger: silentLogger }), {
      registry: REGISTRY,
      credentials: alice,
      scopes: ['repository:o/n:pull'],
      logger: silentLogger,
    })
    return { ...script, send }
  }
  const toStorage = answer(307, { location: 'https://storage.example/blob?sig=s' })

  test('a Bearer challenge from the storage host is not answered: no credentials to its realm', async () => {
    const evil = { 'www-authenticate': 'Bearer realm="https://evil.example/token",service="evil"' }
    const { send, requests } = redirected([toStorage, answer(401, evil)])
    expect((await send(get)).status).toBe(401)
    expect(requests.map((r) => new URL(r.url).host)).toEqual([REGISTRY, 'storage.example'])
  })

  test('a Basic challenge from the storage host is not answered either', async () => {
    const { send, requests } = redirected([toStorage, answer(401, { 'www-authenticate': 'Basic realm="s"' })])
    expect((await send(get)).status).toBe(401)
    expect(requests).toHaveLength(2)
  })

  test('the registry’s own challenge is still answered, and its redirect target gets no token', async () => {
    const { send, requests } = redirected([answer(401, CHALLENGE), token('T'), toStorage, answer(200)])
    expect((await send(get)).status).toBe(200)
    expect(requests[1]!.url).toMatch(/^https:\/\/auth\.example\/token/)
    expect(requests[3]!.headers.authorization).toBeUndefined()
  })
})

describe('basic', () => {
  const basicChallenge = { 'www-authenticate': 'Basic realm="Registry"' }

  test('answers a Basic challenge with the credentials, and sends them up front after', async () => {
    const { send, requests } = authed([answer(401, basicChallenge), answer(200), answer(200)], {
      credentials: alice,
    })
    await send(get)
    await send(get)
    const basic = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`
    expect(requests.map((r) => r.headers.authorization)).toEqual([undefined, basic, basic])
  })

  test('without credentials the 401 stands', async () => {
    const { send, requests } = authed([answer(401, basicChallenge)])
    expect((await send(get)).status).toBe(401)
    expect(requests).toHaveLength(1)
  })
})

describe('checkRealm', () => {
  test('https anywhere; http only on loopback for a loopback registry', () => {
    expect(checkRealm('https://ghcr.io/token', 'ghcr.io').href).toBe('https://ghcr.io/token')
    expect(checkRealm('http://127.0.0.1:9/token', '127.0.0.1:5000').href).toBe('http://127.0.0.1:9/token')
    expect(() => checkRealm('http://auth.example/token', '127.0.0.1:5000')).toThrow(RealmError)
    expect(() => checkRealm('http://127.0.0.1:9/token', 'ghcr.io')).toThrow(RealmError)
    expect(() => checkRealm('ftp://auth.example/token', 'ghcr.io')).toThrow(RealmError)
    expect(() => checkRealm(undefined, 'ghcr.io')).toThrow(/no realm/)
    expect(() => checkRealm('not a url', 'ghcr.io')).toThrow(/not a URL/)
  })
})

describe('realm addresses (go-containerregistry validateRealmURL)', () => {
  test.each([
    ['https://169.254.169.254/token', 'registry.example', /link-local/],
    ['https://[fe80::1]/token', 'registry.example', /link-local/],
    ['https://127.0.0.1/token', 'registry.example', /loopback/],
    ['https://localhost:8443/token', 'registry.example', /loopback/],
    ['https://10.0.0.5/token', 'registry.example', /private/],
    ['https://192.168.1.9/token', 'registry.example', /private/],
    ['https://[fd00::5]/token', 'registry.example', /private/],
  ])('refuses %s for %s', (realm, registry, why) => {
    expect(() => checkRealm(realm, registry)).toThrow(why)
  })

  test.each([
    ['https://auth.example/token', 'registry.example'],
    ['https://8.8.8.8/token', 'registry.example'],
    ['https://10.0.0.5:9443/token', '10.0.0.5:5000'],
    ['https://10.0.0.6/token', '10.0.0.5:5000'],
    ['http://127.0.0.1:9/token', 'localhost:5000'],
  ])('allows %s for %s', (realm, registry) => {
    expect(checkRealm(realm, registry).href).toBe(realm)
  })

  test('no credentials reach a realm the registry steers at cloud metadata', async () => {
    const challenge = { 'www-authenticate': 'Bearer realm="https://169.254.169.254/latest",service="x"' }
    const { send, requests } = authed([answer(401, challenge)], { credentials: alice })
    await expect(send(get)).rejects.toThrow(RealmError)
    expect(requests).toHaveLength(1)
  })
})

describe('redirects of the token request', () => {
  function redirecting(steps: Parameters<typeof scriptedSend>[0], registry = REGISTRY) {
    const script = scriptedSend(steps)
    const send = withAuth(withRedirects(script.send, { logger: silentLogger }), {
      registry,
      credentials: alice,
      scopes: ['repository:o/n:pull'],
      logger: silentLogger,
    })
    return { ...script, send }
  }

  test('a hop to another https host is followed, without the credentials', async () => {
    const { send, requests } = redirecting([
      answer(401, CHALLENGE),
      answer(307, { location: 'https://auth2.example/token' }),
      token('T'),
      answer(200),
    ])
    expect((await send(get)).status).toBe(200)
    expect(requests[2]!.headers.authorization).toBeUndefined()
  })

  test('a hop to another scheme is refused, loopback included', async () => {
    const local = {
      'www-authenticate': 'Bearer realm="http://127.0.0.1:9/token",service="x"',
    }
    const { send, requests } = redirecting(
      [answer(401, local), answer(302, { location: 'https://127.0.0.1:9/token' })],
      '127.0.0.1:5000',
    )
    await expect(send({ ...get, url: 'http://127.0.0.1:5000/v2/o/n/manifests/v1' })).rejects.toThrow(
      /refusing a redirect of the token request from http:/,
    )
    expect(requests).toHaveLength(2)
  })

  test('a hop to a link-local address is refused like a realm there', async () => {
    const { send, requests } = redirecting([
      answer(401, CHALLENGE),
      answer(307, { location: 'https://169.254.169.254/latest/meta-data' }),
    ])
    await expect(send(get)).rejects.toThrow(/link-local/)
    expect(requests).toHaveLength(2)
  })
})

test('mergeScopes folds actions per resource, in a stable order', () => {
  expect(
    mergeScopes(['repository:b:push', 'repository:a:pull'], ['repository:b:pull', '', 'registry:catalog:*']),
  ).toEqual(['registry:catalog:*', 'repository:a:pull', 'repository:b:pull,push'])
})
