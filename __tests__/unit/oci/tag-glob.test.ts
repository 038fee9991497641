import { describe, expect, test } from '@jest/globals'
import { isTagGlob, isValidTagGlob, matchTagList, TooManyTagsError } from '../../../src/oci/tag-glob.js'

describe('tag globs', () => {
  test('a value is a glob exactly when it holds a character no tag can', () => {
    expect(isTagGlob('reports-*')).toBe(true)
    expect(isTagGlob('shard-?')).toBe(true)
    expect(isTagGlob('v[12]')).toBe(true)
    expect(isTagGlob('v1.4.0')).toBe(false)
    expect(isTagGlob('run-4242')).toBe(false)
  })

  test('only tag characters and glob characters make a valid glob', () => {
    expect(isValidTagGlob('reports-*')).toBe(true)
    expect(isValidTagGlob('v[!0]*')).toBe(true)
    expect(isValidTagGlob('reports/*')).toBe(false)
    expect(isValidTagGlob('a b*')).toBe(false)
    expect(isValidTagGlob('')).toBe(false)
  })

  test('matches are sorted by code point whatever order the registry listed them in', () => {
    const listed = ['reports-b', 'other', 'reports-10', 'reports-2', 'reports-a', 'reports-', 'xreports-1']
    expect(matchTagList(listed, 'reports-*', 10)).toEqual([
      'reports-',
      'reports-10',
      'reports-2',
      'reports-a',
      'reports-b',
    ])
    expect(matchTagList(listed, 'reports-?', 10)).toEqual(['reports-2', 'reports-a', 'reports-b'])
    expect(matchTagList(listed, 'reports-[!0-9]', 10)).toEqual(['reports-a', 'reports-b'])
    expect(matchTagList(listed, 'nothing-*', 10)).toEqual([])
  })

  test('a tag listed twice (a registry repeating one across pages) is one match', () => {
    expect(matchTagList(['a-1', 'a-1', 'a-2'], 'a-*', 2)).toEqual(['a-1', 'a-2'])
  })

  test('more matches than the cap is an error naming the pattern, the count and the cap', () => {
    const tags = Array.from({ length: 5 }, (_, i) => `shard-${i}`)
    expect(matchTagList(tags, 'shard-*', 5)).toHaveLength(5)
    expect(() => matchTagList(tags, 'shard-*', 4)).toThrow(TooManyTagsError)
    expect(() => matchTagList(tags, 'shard-*', 4)).toThrow(
      "'shard-*' matches 5 tags, more than the 4 one step takes",
    )
  })
})
