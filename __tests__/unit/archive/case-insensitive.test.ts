import { describe, expect, it } from '@jest/globals'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { ArchiveEntryError } from '../../../src/archive/errors.js'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar, type RawEntry } from './hostile-tar.js'
import { tempDir } from './tree.js'

// node-tar's CVE-2021-37712 on macOS and Windows: entries that a case-insensitive (or
// normalization-insensitive) file system takes for one path must not let a later entry go
// through an earlier symlink under another spelling. Linux's file systems tell the spellings
// apart, so the rule is checked here with the writer told to apply it (its default on those OSes).
function setup() {
  const work = tempDir('case-')
  const outside = path.join(work, 'outside')
  mkdirSync(outside)
  writeFileSync(path.join(outside, 'victim'), 'original')
  return { work, outside, dest: path.join(work, 'dest') }
}

async function extract(entries: RawEntry[], dest: string, caseInsensitive: boolean) {
  return extractToDirectory(Readable.from([rawTar(entries)]), dest, { compression: 'none', caseInsensitive })
}

describe('on a case-insensitive file system', () => {
  const planted = (outside: string): RawEntry => ({ path: 'Link', type: 'SymbolicLink', linkpath: outside })

  it.each([
    ['a file below a symlink spelled in another case', 'link/victim'],
    ['a directory below it', 'LINK/sub/'],
  ])('refuses %s, naming the entry, with nothing written', async (_what, name) => {
    const { work, outside, dest } = setup()
    const later: RawEntry = name.endsWith('/')
      ? { path: name, type: 'Directory' }
      : { path: name, body: 'pwned' }
    const error = await extract([planted(outside), later], dest, true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect((error as ArchiveEntryError).entry).toBe(name)
    expect((error as Error).message).toMatch(/differs from the earlier entry "Link" only by case/)
    expect(readdirSync(outside)).toEqual(['victim'])
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original')
    expect(readdirSync(work)).toEqual(['outside'])
  })

  it('refuses names that differ only by Unicode normalization (NFC against NFD)', async () => {
    const { outside, dest } = setup()
    const nfc = 'caf\u00e9'
    const nfd = 'cafe\u0301'
    const error = await extract(
      [
        { path: nfc, type: 'SymbolicLink', linkpath: outside },
        { path: `${nfd}/victim`, body: 'pwned' },
      ],
      dest,
      true,
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original')
  })

  it('still takes one spelling used throughout, and distinct names', async () => {
    const { dest } = setup()
    await extract(
      [
        { path: 'Dir/', type: 'Directory' },
        { path: 'Dir/a.txt', body: 'a' },
        { path: 'Dir/b.txt', body: 'b' },
      ],
      dest,
      true,
    )
    expect(readdirSync(path.join(dest, 'Dir')).sort()).toEqual(['a.txt', 'b.txt'])
  })
})

describe('on a case-sensitive file system (Linux)', () => {
  it('README and readme are two files', async () => {
    const { dest } = setup()
    await extract(
      [
        { path: 'README', body: 'upper' },
        { path: 'readme', body: 'lower' },
      ],
      dest,
      false,
    )
    expect(readFileSync(path.join(dest, 'readme'), 'utf8')).toBe('lower')
    expect(readFileSync(path.join(dest, 'README'), 'utf8')).toBe('upper')
  })
})
