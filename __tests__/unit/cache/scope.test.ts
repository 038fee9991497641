import { describe, expect, it } from '@jest/globals'
import { cacheScopes } from '../../../src/cache/scope.js'

describe('cacheScopes', () => {
  it('saves a pull request into its own ref, and restores from it, then the base, then the default branch', () => {
    const scopes = cacheScopes({ ref: 'refs/pull/7/merge', baseRef: 'release', defaultBranch: 'main' })
    expect(scopes.save).toBe('refs/pull/7/merge')
    expect(scopes.restore).toEqual(['refs/pull/7/merge', 'refs/heads/release', 'refs/heads/main'])
  })

  it('does not repeat a scope when the base is the default branch, or the job runs on it', () => {
    expect(cacheScopes({ ref: 'refs/pull/7/merge', baseRef: 'main', defaultBranch: 'main' }).restore).toEqual(
      ['refs/pull/7/merge', 'refs/heads/main'],
    )
    expect(cacheScopes({ ref: 'refs/heads/main', defaultBranch: 'main' }).restore).toEqual([
      'refs/heads/main',
    ])
  })

  it('a named scope is the only scope saved to and restored from, and no ref can name it', () => {
    const scopes = cacheScopes({ ref: 'refs/pull/7/merge', defaultBranch: 'main' }, 'shared')
    expect(scopes).toEqual({ save: 'named/shared', restore: ['named/shared'] })
  })

  it('without GITHUB_REF, falls back to the default branch', () => {
    expect(cacheScopes({ defaultBranch: 'trunk' })).toEqual({
      save: 'refs/heads/trunk',
      restore: ['refs/heads/trunk'],
    })
  })
})
