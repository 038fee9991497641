import { describe, expect, test } from '@jest/globals'
import { checkResponse, parseErrorCodes, RegistryError, withRequest } from '../../../src/oci/errors.js'
import { redactUrl } from '../../../src/oci/redact.js'
import { nextLink } from '../../../src/oci/tag-list.js'

const body = JSON.stringify({
  errors: [{ code: 'DENIED', message: 'permission_denied: write_package', detail: null }],
})

describe('checkResponse', () => {
  test('passes an expected status through', async () => {
    const res = new Response('x', { status: 202 })
    expect(await checkResponse(res, 201, 202)).toBe(res)
  })

  test('turns any other status into a RegistryError naming the request, redacted, with the registry codes', async () => {
    const res = withRequest(new Response(body, { status: 403, statusText: 'Forbidden' }), {
      method: 'PUT',
      url: 'https://ghcr.io/v2/o/n/blobs/uploads/abc?_state=SECRETSTATE&digest=sha256:1',
    })
    const error = (await checkResponse(res, 201).catch((e: unknown) => e)) as RegistryError
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ method: 'PUT', status: 403 })
    expect(error.url).toBe('https://ghcr.io/v2/o/n/blobs/uploads/abc?_state=REDACTED&digest=sha256:1')
    expect(error.codes).toEqual([
      { code: 'DENIED', message: 'permission_denied: write_package', detail: null },
    ])
    expect(error.message).toContain('DENIED: permission_denied: write_package')
    expect(error.message).not.toContain('SECRETSTATE')
    // a denied push says what to check (ghcr.io's own words come from src/action/)
    expect(error.message).toContain('Check that the credentials may push to this repository')
  })

  test('reads no more than a capped body', async () => {
    const huge = new Response('y'.repeat(5 * 1024 * 1024), { status: 500 })
    const error = (await checkResponse(huge).catch((e: unknown) => e)) as RegistryError
    expect(error.status).toBe(500)
    expect(error.message.length).toBeLessThan(1000)
  })
})

describe('hints', () => {
  const err = (method: string, url: string, status: number) => new RegistryError({ method, url, status })
  test('a denied pull asks to check the credentials, unless the caller gave its own words', () => {
    expect(err('GET', 'https://ghcr.io/v2/o/n/manifests/v1', 403).hint).toMatch(/Check the credentials/)
    const hints = { pushDenied: 'push words', pullDenied: 'pull words' }
    const own = new RegistryError({ method: 'GET', url: 'https://r.example/v2/', status: 401, hints })
    expect(own.hint).toBe('pull words')
  })
  test('a denied push elsewhere asks to check the credentials', () => {
    expect(err('POST', 'https://r.example/v2/o/n/blobs/uploads/', 401).hint).toMatch(/may push/)
  })
  test('a 404 has no hint', () => {
    expect(err('GET', 'https://ghcr.io/v2/o/n/manifests/v1', 404).hint).toBeUndefined()
  })
})

test('parseErrorCodes ignores what is not the spec error body', () => {
  expect(parseErrorCodes('<html>')).toEqual([])
  expect(parseErrorCodes('{"errors": 3}')).toEqual([])
  expect(parseErrorCodes('{"errors":[{"code":"NAME_UNKNOWN"}]}')).toEqual([
    { code: 'NAME_UNKNOWN', message: '' },
  ])
})

describe('redactUrl', () => {
  test('hides a signed URL signature and userinfo, keeps the registry query', () => {
    expect(redactUrl('https://u:p@storage.example/blob?X-Amz-Signature=abc&X-Amz-Credential=k')).toBe(
      'https://redacted@storage.example/blob?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED',
    )
    expect(redactUrl('https://ghcr.io/v2/o/n/tags/list?n=100&last=v1')).toBe(
      'https://ghcr.io/v2/o/n/tags/list?n=100&last=v1',
    )
    expect(redactUrl('::')).toBe('<unparseable URL>')
  })
})

describe('nextLink', () => {
  test.each([
    ['</v2/o/n/tags/list?n=2&last=b>; rel="next"', '/v2/o/n/tags/list?n=2&last=b'],
    ['<https://r/a>; rel=next', 'https://r/a'],
    ['<https://r/prev>; rel="prev", <https://r/next>; rel="next"', 'https://r/next'],
    ['<https://r/x>; rel="nextish"', undefined],
    [null, undefined],
  ])('%s', (header, expected) => {
    expect(nextLink(header)).toBe(expected)
  })
})
