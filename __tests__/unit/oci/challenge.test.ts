import { expect, test } from '@jest/globals'
import { parseChallenges } from '../../../src/oci/transport/challenge.js'

test('reads a ghcr.io bearer challenge', () => {
  expect(
    parseChallenges('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/n:pull"'),
  ).toEqual([
    {
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/n:pull' },
    },
  ])
})

test('reads several challenges, spaces, unquoted values and case', () => {
  expect(
    parseChallenges('Basic realm="Registry Realm" , BEARER Realm=https://a/token, Service = reg'),
  ).toEqual([
    { scheme: 'basic', params: { realm: 'Registry Realm' } },
    { scheme: 'bearer', params: { realm: 'https://a/token', service: 'reg' } },
  ])
})

test('keeps commas and escaped quotes inside quoted values', () => {
  expect(parseChallenges('Bearer scope="repository:a:pull,push",error="say \\"no\\""')).toEqual([
    { scheme: 'bearer', params: { scope: 'repository:a:pull,push', error: 'say "no"' } },
  ])
})

test('a bare scheme is a challenge without params; a token68 is skipped', () => {
  expect(parseChallenges('Negotiate abc==, Basic')).toEqual([
    { scheme: 'negotiate', params: {} },
    { scheme: 'basic', params: {} },
  ])
})

test('nothing to parse is no challenge', () => {
  expect(parseChallenges('')).toEqual([])
  expect(parseChallenges(' , ')).toEqual([])
})
