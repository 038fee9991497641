import { describe, expect, test } from '@jest/globals'
import {
  formatReference,
  InvalidReferenceError,
  isLoopbackHost,
  isValidTag,
  parseReference,
  parseRepository,
  ReferenceError,
  registryBaseUrl,
} from '../../../src/oci/reference.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

describe('parseReference', () => {
  test.each([
    ['owner/name', { registry: 'ghcr.io', repository: 'owner/name' }],
    ['ghcr.io/owner/name:v1', { registry: 'ghcr.io', repository: 'owner/name', tag: 'v1' }],
    ['Octo-Org/My.Repo:Tag_1', { registry: 'ghcr.io', repository: 'octo-org/my.repo', tag: 'Tag_1' }],
    ['GHCR.IO/Owner/Name', { registry: 'ghcr.io', repository: 'owner/name' }],
    ['localhost:5000/a/b/c', { registry: 'localhost:5000', repository: 'a/b/c' }],
    ['localhost/a', { registry: 'localhost', repository: 'a' }],
    ['127.0.0.1:5000/a:latest', { registry: '127.0.0.1:5000', repository: 'a', tag: 'latest' }],
    ['[::1]:5000/a', { registry: '[::1]:5000', repository: 'a' }],
    [`o/n@${DIGEST}`, { registry: 'ghcr.io', repository: 'o/n', digest: DIGEST }],
    [`o/n:v2@${DIGEST}`, { registry: 'ghcr.io', repository: 'o/n', tag: 'v2', digest: DIGEST }],
    [
      'registry.example.com/a__b/c-d/e---f',
      { registry: 'registry.example.com', repository: 'a__b/c-d/e---f' },
    ],
  ])('%s', (input, expected) => {
    expect(parseReference(input, { defaultRegistry: 'ghcr.io' })).toEqual(expected)
  })

  test('a name without a host needs the caller’s default registry', () => {
    expect(() => parseReference('owner/name')).toThrow(/names no registry host/)
    expect(parseReference('owner/name', { defaultRegistry: 'registry.example' }).registry).toBe(
      'registry.example',
    )
  })

  test.each([
    ['', /empty/],
    ['owner//name', /empty path segment/],
    ['owner/../name', /"\.\."/],
    ['owner/na me', /"na me"/],
    ['owner/-name', /"-name"/],
    ['owner/name_', /"name_"/],
    ['owner/name:-tag', /tag "-tag"/],
    [`owner/name:${'t'.repeat(129)}`, /tag/],
    ['owner/name@sha256:abc', /digest/],
    ['exa_mple.com/a/b', /registry/],
    ['example.com:99999/a', /registry/],
    ['example.com/', /empty/],
    [`example.com/${'a'.repeat(260)}`, /255/],
  ])('refuses %j, quoting it', (input, reason) => {
    const error = (() => {
      try {
        parseReference(input, { defaultRegistry: 'ghcr.io' })
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(InvalidReferenceError)
    expect(error).toBeInstanceOf(ReferenceError)
    expect((error as Error).message).toContain(`"${input}"`)
    expect((error as Error).message).toMatch(reason)
    expect((error as InvalidReferenceError).input).toBe(input)
  })

  test('formats back what it parsed', () => {
    for (const input of ['ghcr.io/o/n', 'ghcr.io/o/n:v1', `localhost:5000/o/n:v1@${DIGEST}`]) {
      expect(formatReference(parseReference(input))).toBe(input)
    }
  })
})

describe('parseRepository', () => {
  test('takes a name with no tag or digest', () => {
    expect(parseRepository('Owner/Name', { defaultRegistry: 'ghcr.io' })).toEqual({
      registry: 'ghcr.io',
      repository: 'owner/name',
    })
  })
  test('refuses a tag', () => {
    expect(() => parseRepository('r.example/owner/name:v1')).toThrow(/no tag or digest/)
  })
})

describe('isValidTag', () => {
  test.each(['latest', 'v1.2.3', '_x', 'A-b.c_d', 'a'.repeat(128)])('accepts %s', (tag) => {
    expect(isValidTag(tag)).toBe(true)
  })
  test.each(['', '.x', '-x', 'a/b', 'a:b', 'a'.repeat(129), 'é'])('refuses %j', (tag) => {
    expect(isValidTag(tag)).toBe(false)
  })
})

describe('registryBaseUrl', () => {
  test.each([
    ['ghcr.io', 'https://ghcr.io'],
    ['registry.example.com:5000', 'https://registry.example.com:5000'],
    ['localhost:5000', 'http://localhost:5000'],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['127.45.6.7', 'http://127.45.6.7'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['128.0.0.1:5000', 'https://128.0.0.1:5000'],
    ['127.0.0.1.example.com', 'https://127.0.0.1.example.com'],
    ['localhost.example.com', 'https://localhost.example.com'],
  ])('%s -> %s', (registry, url) => {
    expect(registryBaseUrl(registry)).toBe(url)
  })

  test('isLoopbackHost takes bracketed IPv6', () => {
    expect(isLoopbackHost('[::1]')).toBe(true)
    expect(isLoopbackHost('::2')).toBe(false)
  })
})
