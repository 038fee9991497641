import { describe, expect, it } from '@jest/globals'
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { ArchiveEntryError, ArchiveFormatError } from '../../../src/archive/errors.js'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar, type RawEntry } from './hostile-tar.js'
import { tempDir } from './tree.js'

// A work folder holding the destination's parent and, beside it, a folder that must stay empty.
function setup() {
  const work = tempDir('hostile-')
  const outside = path.join(work, 'outside')
  mkdirSync(outside)
  writeFileSync(path.join(outside, 'victim'), 'original')
  return { work, outside, dest: path.join(work, 'parent', 'dest') }
}

// a header block's checksum recomputed after its bytes were changed, so only the change is tested
function withChecksum(tar: Buffer, offset: number): void {
  tar.fill(0x20, offset + 148, offset + 156)
  let sum = 0
  for (let i = offset; i < offset + 512; i++) sum += tar[i] as number
  tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, offset + 148, 'ascii')
}

function expectUntouched(work: string, outside: string) {
  expect(readdirSync(outside)).toEqual(['victim'])
  expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original')
  // neither dest, nor its parent (created for staging), nor a staging folder is left behind
  expect(readdirSync(work)).toEqual(['outside'])
}

async function extractRaw(entries: RawEntry[], dest: string, stripPrefix?: string) {
  return extractToDirectory(Readable.from([gzipSync(rawTar(entries))]), dest, {
    compression: 'gzip',
    stripPrefix,
  })
}

async function expectRefused(entries: RawEntry[], entry: string, reason: RegExp, stripPrefix?: string) {
  const { work, outside, dest } = setup()
  const error = await extractRaw(entries, dest, stripPrefix).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ArchiveEntryError)
  expect((error as ArchiveEntryError).entry).toBe(entry)
  expect((error as Error).message).toMatch(reason)
  expectUntouched(work, outside)
}

describe('hostile archives are refused, naming the entry, with nothing written', () => {
  const ok: RawEntry = { path: 'fine.txt', body: 'fine' }

  it.each([
    ['../outside/victim', /"\.\." components/],
    ['a/../../outside/victim', /"\.\." components/],
    ['a/b/../../../outside/victim', /"\.\." components/],
    ['..\\outside\\victim', /"\.\." components/],
    ['/tmp/evil', /absolute/],
    ['\\\\server\\share\\evil', /absolute/],
    ['C:/evil', /absolute/],
    ['C:\\evil', /absolute/],
  ])('a file at %j', async (name, reason) => {
    await expectRefused([ok, { path: name, body: 'pwned' }], name, reason)
  })

  it('a traversal hidden in a PAX path record', async () => {
    await expectRefused(
      [ok, { path: 'innocent.txt', body: 'pwned', pax: { path: '../outside/victim' } }],
      '../outside/victim',
      /\.\./,
    )
  })

  it('a traversal hidden in a GNU long name', async () => {
    const longName: RawEntry = {
      path: '././@LongLink',
      type: 'NextFileHasLongPath',
      body: '../outside/victim\0',
    }
    await expectRefused([ok, longName, { path: 'innocent.txt', body: 'pwned' }], '../outside/victim', /\.\./)
  })

  it('a file written through a symlink to a directory outside', async () => {
    await expectRefused(
      [
        { path: 'link', type: 'SymbolicLink', linkpath: '../../outside' },
        { path: 'link/victim', body: 'pwned' },
      ],
      'link/victim',
      /through the symlink "link"/,
    )
  })

  it('a file written through a symlink deeper in its path, to an absolute target', async () => {
    const { outside } = setup()
    await expectRefused(
      [
        { path: 'a/', type: 'Directory' },
        { path: 'a/link', type: 'SymbolicLink', linkpath: outside },
        { path: 'a/link/sub/victim', body: 'pwned' },
      ],
      'a/link/sub/victim',
      /through the symlink "a\/link"/,
    )
  })

  it.each([
    ['../../outside/victim', /\.\./],
    ['/etc/passwd', /absolute/],
    ['later.txt', /earlier file of the archive/],
    ['link', /earlier file of the archive/],
    ['dir', /earlier file of the archive/],
    ['link/victim', /earlier file of the archive/],
    ['missing.txt', /earlier file of the archive/],
  ])('a hard link to %j', async (target, reason) => {
    await expectRefused(
      [
        { path: 'dir/', type: 'Directory' },
        { path: 'link', type: 'SymbolicLink', linkpath: '../../outside' },
        { path: 'hard', type: 'Link', linkpath: target },
        { path: 'later.txt', body: 'later' },
      ],
      'hard',
      reason,
    )
  })

  it.each([['CharacterDevice'], ['BlockDevice'], ['FIFO']] as const)('a %s entry', async (type) => {
    await expectRefused([ok, { path: 'dev', type }], 'dev', new RegExp(`${type} entries are refused`))
  })

  it('an entry outside the layer prefix', async () => {
    await expectRefused(
      [
        { path: 'title/', type: 'Directory' },
        { path: 'title/a.txt', body: 'a' },
        { path: 'other/b.txt', body: 'b' },
      ],
      'other/b.txt',
      /outside the layer's "title\/"/,
      'title',
    )
  })

  it('a directory with a body, which other readers would parse as entries', async () => {
    const smuggled = rawTar([{ path: 'evil', body: 'pwned' }], { end: false })
    await expectRefused(
      [{ path: 'dir/', type: 'Directory', body: smuggled }],
      'dir/',
      /with a body is refused/,
    )
  })

  it('a file where an earlier entry made a directory', async () => {
    await expectRefused(
      [
        { path: 'd/', type: 'Directory' },
        { path: 'd/x', body: 'x' },
        { path: 'd', body: 'file' },
      ],
      'd',
      /replace a directory/,
    )
  })

  // the folder of consecutive entries is checked once: what comes between them is checked itself
  it('a symlink replacing a folder between two of its files', async () => {
    const { outside } = setup()
    await expectRefused(
      [
        { path: 'd/a', body: 'a' },
        { path: 'd', type: 'SymbolicLink', linkpath: outside },
        { path: 'd/victim', body: 'pwned' },
      ],
      'd',
      /replace a directory/,
    )
  })

  it('a file whose parent is a file of the archive', async () => {
    await expectRefused(
      [
        { path: 'f', body: 'file' },
        { path: 'f/x', body: 'x' },
      ],
      'f/x',
      /parent "f" is a file/,
    )
  })
})

describe('hostile but harmless archives', () => {
  it('replaces a symlink by a later file of the same name, never writing through it', async () => {
    const { work, outside, dest } = setup()
    await extractRaw(
      [
        { path: 'victim', type: 'SymbolicLink', linkpath: path.join(outside, 'victim') },
        { path: 'victim', body: 'mine' },
      ],
      dest,
    )
    expect(lstatSync(path.join(dest, 'victim')).isFile()).toBe(true)
    expect(readFileSync(path.join(dest, 'victim'), 'utf8')).toBe('mine')
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original')
    expect(readdirSync(work).sort()).toEqual(['outside', 'parent'])
  })

  it('replaces a symlink by a later directory of the same name', async () => {
    const { outside, dest } = setup()
    await extractRaw(
      [
        { path: 'd', type: 'SymbolicLink', linkpath: outside },
        { path: 'd/', type: 'Directory' },
        { path: 'd/victim', body: 'mine' },
      ],
      dest,
    )
    expect(lstatSync(path.join(dest, 'd')).isDirectory()).toBe(true)
    expect(readFileSync(path.join(outside, 'victim'), 'utf8')).toBe('original')
  })
})

describe('broken archives fail whole and leave nothing behind', () => {
  it('a truncated archive', async () => {
    const { work, outside, dest } = setup()
    const tar = rawTar([{ path: 'a.txt', body: 'x'.repeat(5000) }]).subarray(0, 2048)
    const error = await extractToDirectory(Readable.from([tar]), dest, { compression: 'none' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ArchiveFormatError)
    expect((error as Error).message).toMatch(/truncated/)
    expectUntouched(work, outside)
  })

  it('a damaged header', async () => {
    const { work, outside, dest } = setup()
    const tar = rawTar([
      { path: 'a.txt', body: 'a' },
      { path: 'b.txt', body: 'b' },
    ])
    tar.writeUInt8(tar.readUInt8(1024 + 10) ^ 0xff, 1024 + 10)
    const error = await extractToDirectory(Readable.from([tar]), dest, { compression: 'none' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ArchiveFormatError)
    expect((error as Error).message).toMatch(/checksum/)
    expectUntouched(work, outside)
  })

  // found by the fuzzer (fuzz/regressions/): node-tar's Header throws a plain Error for these
  it.each([
    ['a malformed base-256 size', 124, [0x81, 0xff]],
    [
      'a base-256 size beyond 2^53',
      124,
      [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ],
    ['a malformed base-256 mtime', 136, [0xfe, 0x01]],
  ])('a header with %s', async (_, field, bytes) => {
    const { work, outside, dest } = setup()
    const tar = rawTar([
      { path: 'a.txt', body: 'a' },
      { path: 'b.txt', body: 'b' },
    ])
    Buffer.from(bytes).copy(tar, 1024 + field)
    withChecksum(tar, 1024)
    const error = await extractToDirectory(Readable.from([tar]), dest, { compression: 'none' }).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ArchiveFormatError)
    expect((error as Error).message).toMatch(/a numeric field of the header near "b\.txt"/)
    expectUntouched(work, outside)
  })

  it.each([
    ['a name longer than the filesystem allows', 'a'.repeat(300)],
    ['a path longer than the system allows', `${'d'.repeat(200)}/`.repeat(25) + 'f'],
  ])('an entry with %s fails naming the entry, not the staging path', async (_, name) => {
    const { work, outside, dest } = setup()
    const error = await extractRaw(
      [
        { path: 'fine.txt', body: 'fine' },
        { path: 'x', body: 'x', pax: { path: name } },
      ],
      dest,
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect((error as ArchiveEntryError).entry).toBe(name)
    expect((error as Error).message).toMatch(/ENAMETOOLONG/)
    expect((error as Error).message).not.toMatch(/partial-/)
    expectUntouched(work, outside)
  })

  it('a root entry that is not a directory', async () => {
    await expect(extractRaw([{ path: '.', body: 'x' }], setup().dest)).rejects.toThrow(/root/)
  })

  it('ignores what follows the end-of-archive blocks, as GNU tar does', async () => {
    const { dest } = setup()
    const tar = Buffer.concat([
      rawTar([{ path: 'a.txt', body: 'a' }]),
      rawTar([{ path: 'after-end.txt', body: 'x' }]),
    ])
    await extractToDirectory(Readable.from([tar]), dest, { compression: 'none' })
    expect(readdirSync(dest)).toEqual(['a.txt'])
  })

  it('the leftover check itself notices a staging folder left behind', () => {
    const { work, outside } = setup()
    mkdirSync(path.join(work, 'dest.partial-1234'))
    expect(() => expectUntouched(work, outside)).toThrow()
    expect(existsSync(path.join(work, 'dest.partial-1234'))).toBe(true)
  })

  it('a symlink in a hostile spot still stores its target verbatim', async () => {
    const { dest } = setup()
    await extractRaw([{ path: 'l', type: 'SymbolicLink', linkpath: '../../../../etc/passwd' }], dest)
    expect(lstatSync(path.join(dest, 'l')).isSymbolicLink()).toBe(true)
  })
})
