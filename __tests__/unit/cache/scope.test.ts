import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { cacheScopes, readRefContext } from '../../../src/cache/scope.js'

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

describe('readRefContext', () => {
  it('reads the default branch from the event payload', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'scope-'))
    const event = path.join(dir, 'event.json')
    writeFileSync(event, JSON.stringify({ repository: { default_branch: 'trunk' } }))
    expect(
      readRefContext({ GITHUB_REF: 'refs/heads/x', GITHUB_BASE_REF: '', GITHUB_EVENT_PATH: event }),
    ).toEqual({ ref: 'refs/heads/x', baseRef: undefined, defaultBranch: 'trunk' })
  })

  it('treats a missing or broken payload as no default branch', () => {
    expect(readRefContext({ GITHUB_EVENT_PATH: '/nonexistent/event.json' }).defaultBranch).toBeUndefined()
    const dir = mkdtempSync(path.join(tmpdir(), 'scope-'))
    const event = path.join(dir, 'event.json')
    writeFileSync(event, '{not json')
    expect(readRefContext({ GITHUB_EVENT_PATH: event }).defaultBranch).toBeUndefined()
  })
})
