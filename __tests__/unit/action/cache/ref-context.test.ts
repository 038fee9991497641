import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { readRefContext } from '../../../../src/action/cache/inputs.js'

// The runner's variables are read in src/action/; src/cache/scope.ts takes the values.
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
