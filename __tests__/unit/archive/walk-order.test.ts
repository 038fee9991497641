import { describe, expect, it } from '@jest/globals'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { walkSelection, walkTree } from '../../../src/archive/walk.js'
import { tempDir } from './tree.js'

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))

describe('the walk order', () => {
  it("is the UTF-8 byte order of the names, as GNU tar's --sort=name, beyond ASCII too", () => {
    const root = tempDir('walk-order-')
    // U+E000 and U+FFFD sort before an emoji in UTF-8 but after its surrogates in UTF-16
    // and names that start like `dir` with a byte below `/`: they come after all of dir's contents
    const names = [
      'b',
      'B',
      'a',
      'é',
      'e',
      '\uE000',
      '\uFFFD',
      '😀',
      '😁x',
      '😁',
      'z',
      'ab',
      'a b',
      'dir-x',
      'dir.x',
      'dir!',
    ]
    for (const name of names) writeFileSync(path.join(root, name), '')
    mkdirSync(path.join(root, 'dir'))
    for (const name of names) writeFileSync(path.join(root, 'dir', name), '')

    const listed = [...walkTree(root, { includeGit: false, includeHidden: true })].map((e) => e.relative)

    const top = [...names, 'dir'].sort(utf8Order)
    const expected = top.flatMap((name) =>
      name === 'dir' ? ['dir', ...[...names].sort(utf8Order).map((n) => `dir/${n}`)] : [name],
    )
    expect(listed).toEqual(expected)
    // a selection of every path, in any order, lists them in the same order
    expect([...walkSelection(root, [...listed].reverse(), false)].map((e) => e.relative)).toEqual(expected)
  })
})
