import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { overlappingEntries } from '../../../src/archive/overlaps.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'overlaps-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function tree(name: string, files: Record<string, string | null>): string {
  const root = path.join(dir, name)
  mkdirSync(root, { recursive: true })
  for (const [file, content] of Object.entries(files)) {
    const at = path.join(root, file)
    if (content === null) mkdirSync(at, { recursive: true })
    else {
      mkdirSync(path.dirname(at), { recursive: true })
      writeFileSync(at, content)
    }
  }
  return root
}

describe('overlappingEntries', () => {
  test('names each file several trees hold, with its holders in order; shared directories merge', () => {
    const a = tree('a', { VERSION: 'a', 'lib/x.txt': 'a', 'only-a': 'a', 'docs/': null })
    const b = tree('b', { 'lib/y.txt': 'b', 'docs/': null })
    const c = tree('c', { VERSION: 'c', 'lib/x.txt': 'c' })
    expect(overlappingEntries([a, b, c])).toEqual([
      { path: 'VERSION', holders: [0, 2] },
      { path: path.join('lib', 'x.txt'), holders: [0, 2] },
    ])
  })

  test('a file in one and a directory in another is an overlap (the later one replaces)', () => {
    const a = tree('a', { out: 'a file' })
    const b = tree('b', { 'out/inner': 'b' })
    expect(overlappingEntries([a, b])).toEqual([{ path: 'out', holders: [0, 1] }])
  })

  test('symlinks are entries, never followed; a missing root holds nothing', () => {
    const a = tree('a', { 'real/f': 'a' })
    const b = tree('b', {})
    symlinkSync('../a/real', path.join(b, 'real'))
    expect(overlappingEntries([a, b, path.join(dir, 'missing')])).toEqual([{ path: 'real', holders: [0, 1] }])
  })
})
