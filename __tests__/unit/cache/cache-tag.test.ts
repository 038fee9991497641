import { describe, expect, it } from '@jest/globals'
import { cacheTag, indexTag } from '../../../src/cache/cache-tag.js'
import { isValidTag } from '../../../src/oci/reference.js'

describe('cacheTag', () => {
  it('is a valid tag for any key up to 512 characters of any text', () => {
    const keys = [
      'npm-linux-abc123',
      'x'.repeat(512),
      'ключ/日本語 with spaces, commas & :colons:',
      '-leading',
      '...',
      '',
    ]
    for (const key of keys) {
      const tag = cacheTag('refs/heads/main', key)
      expect(isValidTag(tag)).toBe(true)
      expect(tag.length).toBeLessThanOrEqual(128)
    }
  })

  it('is the same for the same scope and key, so an exact lookup needs no listing', () => {
    expect(cacheTag('refs/heads/main', 'k')).toBe(cacheTag('refs/heads/main', 'k'))
  })

  it('differs by scope and by key, even where the readable part is the same', () => {
    const base = cacheTag('refs/heads/main', 'npm-1')
    expect(cacheTag('refs/pull/7/merge', 'npm-1')).not.toBe(base)
    expect(cacheTag('refs/heads/main', 'npm 1')).not.toBe(cacheTag('refs/heads/main', 'npm_1'))
    expect(cacheTag('refs/heads/main', `${'a'.repeat(60)}1`)).not.toBe(
      cacheTag('refs/heads/main', `${'a'.repeat(60)}2`),
    )
  })

  it('cannot be forged by moving text between scope and key', () => {
    expect(cacheTag('a', 'bc')).not.toBe(cacheTag('ab', 'c'))
  })

  it('shows the start of the key to people browsing the package', () => {
    expect(cacheTag('refs/heads/main', 'npm-linux-abc')).toMatch(/^c-npm-linux-abc-[a-f0-9]{64}$/)
  })
})

describe('indexTag', () => {
  it('is one valid tag per scope, distinct from every cache tag', () => {
    const tag = indexTag('refs/heads/main')
    expect(isValidTag(tag)).toBe(true)
    expect(tag).toMatch(/^i-refs_heads_main-[a-f0-9]{64}$/)
    expect(indexTag('refs/heads/dev')).not.toBe(tag)
  })
})
