import { describe, expect, it } from '@jest/globals'
import { constants, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { ArchiveEntryError } from '../../../src/archive/errors.js'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { FileBatches } from '../../../src/archive/file-batches.js'
import { rawTar, type RawEntry } from './hostile-tar.js'
import { tempDir } from './tree.js'

// more small files than the staging writer writes itself before it starts its worker threads
const MANY = 600
const MTIME = new Date('2025-03-04T05:06:07Z')

function smallFiles(count = MANY): RawEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    path: `pkg-${i % 7}/lib/file-${i}.js`,
    body: `module.exports = ${i}\n`.repeat(1 + (i % 50)),
    mode: i % 3 === 0 ? 0o755 : 0o644,
    mtime: MTIME,
  }))
}

function extract(entries: RawEntry[], dest: string, restoreMtimes = false) {
  return extractToDirectory(Readable.from([rawTar(entries)]), dest, { compression: 'none', restoreMtimes })
}

describe('small files written by worker threads in batches', () => {
  it('lands every file with its contents, mode and (in cache mode) mtime', async () => {
    const dest = path.join(tempDir('batches-'), 'dest')
    const entries = smallFiles()
    const result = await extract(entries, dest, true)
    expect(result.files).toBe(MANY)
    for (const entry of entries) {
      const file = path.join(dest, entry.path)
      expect(readFileSync(file, 'utf8')).toBe(entry.body)
      const stat = lstatSync(file)
      expect(stat.mode & 0o100).toBe((entry.mode as number) & 0o100)
      expect(stat.mtimeMs).toBe(MTIME.getTime())
    }
  })

  it('gives files the extraction time outside cache mode', async () => {
    const dest = path.join(tempDir('batches-'), 'dest')
    const before = Date.now() - 2000
    await extract(smallFiles(), dest)
    expect(lstatSync(path.join(dest, smallFiles()[MANY - 6]!.path)).mtimeMs).toBeGreaterThan(before)
  })

  it('writes an entry that replaces an earlier file after it, and a hard link to one', async () => {
    const dest = path.join(tempDir('batches-'), 'dest')
    const entries = smallFiles()
    await extract(
      [
        ...entries,
        { path: 'pkg-0/lib/file-7.js', body: 'the later one' },
        { path: 'linked.js', type: 'Link', linkpath: entries[MANY - 6]!.path },
        { path: 'pkg-2/lib/file-9.js', type: 'SymbolicLink', linkpath: 'file-2.js' },
      ],
      dest,
    )
    expect(readFileSync(path.join(dest, 'pkg-0/lib/file-7.js'), 'utf8')).toBe('the later one')
    expect(readFileSync(path.join(dest, 'linked.js'), 'utf8')).toBe(entries[MANY - 6]!.body)
    expect(readlinkSync(path.join(dest, 'pkg-2/lib/file-9.js'))).toBe('file-2.js')
  })

  it('still refuses a write through a symlink that replaced a batched file', async () => {
    const work = tempDir('batches-')
    const dest = path.join(work, 'dest')
    const error = await extract(
      [
        ...smallFiles(),
        { path: 'pkg-0/lib/file-7.js', type: 'SymbolicLink', linkpath: '/tmp' },
        { path: 'pkg-0/lib/file-7.js/pwned.js', body: 'no' },
      ],
      dest,
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect((error as ArchiveEntryError).entry).toBe('pkg-0/lib/file-7.js/pwned.js')
    expect(readdirSync(work)).toEqual([])
  })

  it('names a file the filesystem refused on a worker, and leaves nothing behind', async () => {
    const work = tempDir('batches-')
    const tooLong = `pkg-0/${'x'.repeat(300)}.js`
    const error = await extract(
      [
        ...smallFiles(),
        { path: 'pkg-0/long.js', pax: { path: tooLong }, body: 'refused' },
        ...smallFiles(20).map((e) => ({ ...e, path: `later/${e.path}` })),
      ],
      path.join(work, 'dest'),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect((error as ArchiveEntryError).entry).toBe(tooLong)
    expect((error as Error).message).toMatch(/the filesystem refused it \(ENAMETOOLONG/)
    expect(readdirSync(work)).toEqual([])
  })
})

describe('FileBatches', () => {
  it('keeps at most two batches in flight per worker, and has every file on disk after flush', () => {
    const dir = tempDir('batches-')
    const batches = new FileBatches({
      flags: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      workers: 1,
    })
    let most = 0
    const body = Buffer.alloc(100 * 1024, 'a')
    try {
      for (let i = 0; i < 40; i++) {
        batches.add(
          { name: `f${i}`, target: path.join(dir, `f${i}`), mode: 0o644, mtime: undefined },
          body.length,
        )
        batches.write(body)
        most = Math.max(most, batches.inFlight)
      }
      batches.flush()
    } finally {
      batches.close()
    }
    expect(most).toBe(2)
    expect(batches.inFlight).toBe(0)
    expect(readdirSync(dir)).toHaveLength(40)
    expect(readFileSync(path.join(dir, 'f39'))).toEqual(body)
  })
})
