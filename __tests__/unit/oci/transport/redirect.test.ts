import { describe, expect, test } from '@jest/globals'
import { silentLogger } from '../../../../src/oci/logger.js'
import { RedirectError, nextRequest, withRedirects } from '../../../../src/oci/transport/redirect.js'
import { answer, scriptedSend } from '../scripted-send.js'

const REGISTRY = 'https://ghcr.io/v2/o/n/blobs/sha256:abc'
const withToken = { authorization: 'Bearer secret-token', accept: '*/*' }

describe('withRedirects', () => {
  test('follows a 307 to another origin without the Authorization header', async () => {
    const signed = 'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?sig=xyz&se=1'
    const { send, requests } = scriptedSend([answer(307, { location: signed }), answer(200, {}, 'bytes')])
    const res = await withRedirects(send, { logger: silentLogger })({
      method: 'GET',
      url: REGISTRY,
      headers: withToken,
    })
    expect(await res.text()).toBe('bytes')
    expect(requests.map((r) => r.url)).toEqual([REGISTRY, signed])
    expect(requests[0]!.headers.authorization).toBe('Bearer secret-token')
    expect(requests[1]!.headers).toEqual({ accept: '*/*' })
  })

  test('keeps the Authorization header on the same origin, resolving a relative Location', async () => {
    const { send, requests } = scriptedSend([answer(308, { location: '/v2/o/n/blobs/other' }), answer(200)])
    await withRedirects(send, { logger: silentLogger })({ method: 'GET', url: REGISTRY, headers: withToken })
    expect(requests[1]!.url).toBe('https://ghcr.io/v2/o/n/blobs/other')
    expect(requests[1]!.headers.authorization).toBe('Bearer secret-token')
  })

  test('drops credentials for good once they left: a hop back to the registry does not get them', async () => {
    const { send, requests } = scriptedSend([
      answer(302, { location: 'https://cdn.example/x' }),
      answer(302, { location: REGISTRY }),
      answer(200),
    ])
    await withRedirects(send, { logger: silentLogger })({ method: 'GET', url: REGISTRY, headers: withToken })
    expect(requests[2]!.headers.authorization).toBeUndefined()
  })

  test('a port is part of the origin', async () => {
    const { send, requests } = scriptedSend([
      answer(307, { location: 'https://ghcr.io:8443/x' }),
      answer(200),
    ])
    await withRedirects(send, { logger: silentLogger })({ method: 'GET', url: REGISTRY, headers: withToken })
    expect(requests[1]!.headers.authorization).toBeUndefined()
  })

  test('stops after ten hops', async () => {
    const loop = Array.from({ length: 12 }, () => answer(302, { location: REGISTRY }))
    const { send } = scriptedSend(loop)
    await expect(
      withRedirects(send, { logger: silentLogger })({ method: 'GET', url: REGISTRY, headers: {} }),
    ).rejects.toThrow(/more than 10 redirects/)
  })

  test('a 3xx without a Location is returned as it is', async () => {
    const { send } = scriptedSend([answer(304)])
    const res = await withRedirects(send, { logger: silentLogger })({
      method: 'GET',
      url: REGISTRY,
      headers: {},
    })
    expect(res.status).toBe(304)
  })
})

describe('nextRequest', () => {
  const put = {
    method: 'PUT',
    url: REGISTRY,
    headers: { 'content-type': 'x', 'content-length': '3' },
    body: () => Buffer.from('abc'),
  }

  test('307 and 308 keep the method and the body', () => {
    for (const status of [307, 308]) {
      const next = nextRequest(put, status, new URL('https://ghcr.io/elsewhere'))
      expect(next.method).toBe('PUT')
      expect(next.body).toBe(put.body)
    }
  })

  test('303 turns into a GET without a body; so do 301 and 302 after a POST', () => {
    expect(nextRequest(put, 303, new URL(REGISTRY))).toMatchObject({
      method: 'GET',
      body: undefined,
      headers: {},
    })
    const post = { ...put, method: 'POST' }
    expect(nextRequest(post, 302, new URL(REGISTRY)).method).toBe('GET')
    expect(nextRequest(post, 301, new URL(REGISTRY)).method).toBe('GET')
    expect(nextRequest({ ...put, method: 'HEAD' }, 303, new URL(REGISTRY)).method).toBe('HEAD')
  })

  test('refuses a downgrade from https to plain http, and other schemes', () => {
    expect(() => nextRequest(put, 302, new URL('http://cdn.example/x?sig=secret'))).toThrow(RedirectError)
    expect(() => nextRequest(put, 302, new URL('http://cdn.example/x?sig=secret'))).toThrow(/sig=REDACTED/)
    expect(() => nextRequest(put, 302, new URL('file:///etc/passwd'))).toThrow(/file:/)
    // a local test registry may send us to another loopback port
    expect(nextRequest(put, 302, new URL('http://127.0.0.2:9000/x')).url).toBe('http://127.0.0.2:9000/x')
  })
})
