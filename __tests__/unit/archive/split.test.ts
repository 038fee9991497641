import { describe, expect, test } from '@jest/globals'
import { splitEntries } from '../../../src/archive/split.js'
import type { TreeEntry } from '../../../src/archive/walk.js'

const file = (relative: string, size: number): TreeEntry => ({
  relative,
  kind: 'file',
  mode: 0o644,
  size,
  mtime: 0,
})
const dir = (relative: string): TreeEntry => ({ relative, kind: 'directory', mode: 0o755, size: 0, mtime: 0 })
const KiB = 1024

describe('splitting a tree across layers', () => {
  test('a tree that fits is not split: the one layer of today', () => {
    expect(splitEntries([dir('a'), file('a/x', 10 * KiB)], 1024 * KiB)).toBeUndefined()
  })

  test('parts are cut at entry boundaries in tree order, each within the bound', () => {
    const entries = [
      dir('a'),
      file('a/1', 300 * KiB),
      file('a/2', 300 * KiB),
      file('a/3', 300 * KiB),
      dir('b'),
    ]
    expect(splitEntries(entries, 700 * KiB)).toEqual([
      ['a', 'a/1', 'a/2'],
      ['a/3', 'b'],
    ])
  })

  test('a file larger than the bound goes alone in its part', () => {
    const entries = [file('a', 10 * KiB), file('huge', 5000 * KiB), file('z', 10 * KiB)]
    expect(splitEntries(entries, 1024 * KiB)).toEqual([['a'], ['huge'], ['z']])
  })

  test('the same entries always give the same parts', () => {
    const entries = Array.from({ length: 50 }, (_, i) => file(`f${String(i).padStart(2, '0')}`, 100 * KiB))
    expect(splitEntries(entries, 1024 * KiB)).toEqual(splitEntries([...entries], 1024 * KiB))
    expect(splitEntries(entries, 1024 * KiB)?.flat()).toEqual(entries.map((e) => e.relative))
  })
})
