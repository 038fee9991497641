import { describe, expect, test } from '@jest/globals'
import { ConnectionError } from '../../../../src/oci/errors.js'
import { silentLogger } from '../../../../src/oci/logger.js'
import {
  backoffDelay,
  isRetryableError,
  isRetryableStatus,
  retryAfterMs,
  retryPolicy,
  withRetry,
} from '../../../../src/oci/transport/retry.js'
import { answer, networkError, scriptedSend } from '../scripted-send.js'

function retrying(steps: Parameters<typeof scriptedSend>[0], attempts = 4) {
  const slept: number[] = []
  const script = scriptedSend(steps)
  const send = withRetry(script.send, {
    attempts,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
    sleep: async (ms) => {
      slept.push(ms)
    },
    logger: silentLogger,
  })
  return { ...script, send, slept }
}

const get = { method: 'GET', url: 'https://r.example/v2/', headers: {} }

describe('withRetry', () => {
  test.each([408, 429, 500, 502, 503, 504])(
    'retries a %i and returns the answer that follows',
    async (status) => {
      const { send, requests } = retrying([answer(status), answer(200, {}, 'ok')])
      const res = await send(get)
      expect(res.status).toBe(200)
      expect(requests).toHaveLength(2)
    },
  )

  test.each([400, 401, 403, 404, 501, 505])('does not retry a %i', async (status) => {
    const { send, requests } = retrying([answer(status), answer(200)])
    expect((await send(get)).status).toBe(status)
    expect(requests).toHaveLength(1)
  })

  test('retries network errors, with exponential backoff', async () => {
    const { send, requests, slept } = retrying([
      networkError(),
      networkError('ETIMEDOUT'),
      answer(503),
      answer(200),
    ])
    expect((await send(get)).status).toBe(200)
    expect(requests).toHaveLength(4)
    // random 0.5 puts each delay at three quarters of 100, 200, 400
    expect(slept).toEqual([75, 150, 300])
  })

  test('gives up after the attempts it was given: the last answer is returned', async () => {
    const { send, requests } = retrying([answer(503), answer(503), answer(502)], 3)
    expect((await send(get)).status).toBe(502)
    expect(requests).toHaveLength(3)
  })

  test('gives up after the attempts it was given: the last error is thrown', async () => {
    const last = networkError('EPIPE')
    const { send, requests } = retrying([networkError(), last], 2)
    const error = (await send(get).catch((e: unknown) => e)) as Error
    expect(error.cause).toBe(last)
    expect(error.message).toMatch(/cannot reach r\.example: socket EPIPE.*after 2 tries/)
    expect(requests).toHaveLength(2)
  })

  // The shapes Node's fetch gives: TypeError('fetch failed') around the socket or TLS error.
  const failed = (code: string, message: string) =>
    new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) })

  test('a name that does not resolve fails at once, naming the host and the cause', async () => {
    const { send, requests } = retrying([failed('ENOTFOUND', 'getaddrinfo ENOTFOUND r.example'), answer(200)])
    const error = (await send(get).catch((e: unknown) => e)) as Error
    expect(error.message).toBe(
      'GET https://r.example/v2/: cannot reach r.example: the name r.example does not resolve (ENOTFOUND)',
    )
    expect(isRetryableError(error)).toBe(false)
    expect(requests).toHaveLength(1)
  })

  test.each([
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['CERT_HAS_EXPIRED', 'certificate has expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"],
  ])('a refused TLS certificate (%s) fails at once, naming the host and the cause', async (code, message) => {
    const { send, requests } = retrying([failed(code, message), answer(200)])
    const error = (await send(get).catch((e: unknown) => e)) as Error
    expect(error.message).toContain(
      `cannot reach r.example: its TLS certificate was refused: ${message} (${code})`,
    )
    expect(isRetryableError(error)).toBe(false)
    expect(requests).toHaveLength(1)
  })

  test('an https request a plain http server answered fails at once, saying so rather than blaming a certificate', async () => {
    const { send, requests } = retrying([
      failed('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
      answer(200),
    ])
    const error = (await send(get).catch((e: unknown) => e)) as ConnectionError
    expect(error.message).toBe(
      'GET https://r.example/v2/: cannot reach r.example: it answered without TLS, as a plain http server does (ERR_SSL_WRONG_VERSION_NUMBER)',
    )
    expect(error.notTls).toBe(true)
    expect(isRetryableError(error)).toBe(false)
    expect(requests).toHaveLength(1)
  })

  test('a resolver that did not answer (EAI_AGAIN) is retried', async () => {
    const { send, requests } = retrying([failed('EAI_AGAIN', 'getaddrinfo EAI_AGAIN r.example'), answer(200)])
    expect((await send(get)).status).toBe(200)
    expect(requests).toHaveLength(2)
  })

  test('the text of a message decides nothing: "fetch failed" without a transient code is not retried', async () => {
    const bare = new TypeError('fetch failed', { cause: new Error('something odd') })
    const { send, requests } = retrying([bare, answer(200)])
    await expect(send(get)).rejects.toBe(bare)
    expect(requests).toHaveLength(1)
  })

  test('a request marked retry: false still gets the host and cause named', async () => {
    const { send } = retrying([failed('ENOTFOUND', 'getaddrinfo ENOTFOUND r.example')])
    await expect(send({ ...get, retry: false })).rejects.toThrow(/cannot reach r\.example/)
  })

  test('honours Retry-After on a 429', async () => {
    const { send, slept } = retrying([answer(429, { 'retry-after': '3' }), answer(200)])
    await send(get)
    expect(slept).toEqual([3000])
  })

  test('does not retry an error that says it is not retryable, nor other errors', async () => {
    const refused = Object.assign(new Error('source gone'), { retryable: false })
    const wrapped = new TypeError('fetch failed', { cause: refused })
    for (const error of [
      wrapped,
      new Error('a bug'),
      Object.assign(new Error('aborted'), { name: 'AbortError' }),
    ]) {
      const { send, requests } = retrying([error, answer(200)])
      await expect(send(get)).rejects.toBe(error)
      expect(requests).toHaveLength(1)
    }
  })

  test('stands down for a request marked retry: false, whose caller retries a larger unit', async () => {
    const { send, requests } = retrying([answer(503), answer(200)])
    expect((await send({ ...get, retry: false })).status).toBe(503)
    expect(requests).toHaveLength(1)
  })

  test('replays the body from its factory on every attempt', async () => {
    const { send, bodies } = retrying([answer(500), networkError(), answer(201)])
    await send({ method: 'PUT', url: get.url, headers: {}, body: () => Buffer.from('payload') })
    expect(bodies).toEqual(['payload', 'payload', 'payload'])
  })
})

describe('the policy', () => {
  test('backoff grows, is capped and jittered over the upper half', () => {
    const low = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 })
    const high = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999999 })
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(low, n))).toEqual([50, 100, 200, 400, 500, 500])
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(high, n))).toEqual([100, 200, 400, 800, 1000, 1000])
  })

  test('a Retry-After wait is capped at a minute', () => {
    expect(backoffDelay(retryPolicy(), 1, 3_600_000)).toBe(60_000)
  })

  test('Retry-After as seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(retryAfterMs(answer(429, { 'retry-after': '2' }), now)).toBe(2000)
    expect(retryAfterMs(answer(429, { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5000)
    expect(retryAfterMs(answer(429, { 'retry-after': 'soon' }), now)).toBeUndefined()
    expect(retryAfterMs(answer(429), now)).toBeUndefined()
  })

  test('what counts as transient', () => {
    expect(isRetryableStatus(503)).toBe(true)
    expect(isRetryableStatus(501)).toBe(false)
    expect(isRetryableError(networkError('UND_ERR_SOCKET'))).toBe(true)
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true)
    expect(isRetryableError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false)
    expect(isRetryableError('a string')).toBe(false)
  })

  test('at least one attempt, five by default', () => {
    expect(retryPolicy({ attempts: 0 }).attempts).toBe(1)
    expect(retryPolicy().attempts).toBe(5)
  })
})
