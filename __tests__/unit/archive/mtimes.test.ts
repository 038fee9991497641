import { describe, expect, it } from '@jest/globals'
import { lstatSync, mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar, type RawEntry } from './hostile-tar.js'
import { tempDir } from './tree.js'

const SAVED = new Date('2024-03-01T12:34:56Z')
const OLDER = new Date('2023-01-02T03:04:05Z')

// a cache-like layer: every entry carries its own saved mtime
function layer(): RawEntry[] {
  return [
    { path: 'src/', type: 'Directory', mtime: OLDER },
    { path: 'src/deep/', type: 'Directory', mtime: OLDER },
    { path: 'src/deep/a.txt', body: 'a'.repeat(70000), mtime: SAVED },
    { path: 'src/b.txt', body: 'b', mtime: OLDER },
    { path: 'src/link', type: 'SymbolicLink', linkpath: 'b.txt', mtime: SAVED },
    { path: 'src/hard', type: 'Link', linkpath: 'src/b.txt', mtime: SAVED },
    { path: 'empty/', type: 'Directory', mode: 0o555, mtime: SAVED },
  ]
}

function extract(dest: string, restoreMtimes?: boolean, entries = layer()) {
  return extractToDirectory(Readable.from([gzipSync(rawTar(entries))]), dest, {
    compression: 'gzip',
    restoreMtimes,
  })
}

const seconds = (date: Date) => date.getTime() / 1000
const mtimeOf = (file: string) => statSync(file).mtimeMs / 1000
const lmtimeOf = (file: string) => lstatSync(file).mtimeMs / 1000

describe('restoreMtimes (cache mode) gives every entry its archive mtime', () => {
  it('files, the symlink itself, and directories after their contents went in', async () => {
    const dest = path.join(tempDir(), 'dest')
    await extract(dest, true)
    expect(mtimeOf(path.join(dest, 'src/deep/a.txt'))).toBe(seconds(SAVED))
    expect(mtimeOf(path.join(dest, 'src/b.txt'))).toBe(seconds(OLDER))
    // a hard link is the same file: the entry it links to keeps its mtime
    expect(mtimeOf(path.join(dest, 'src/hard'))).toBe(seconds(OLDER))
    expect(lmtimeOf(path.join(dest, 'src/link'))).toBe(seconds(SAVED))
    expect(mtimeOf(path.join(dest, 'src'))).toBe(seconds(OLDER))
    expect(mtimeOf(path.join(dest, 'src/deep'))).toBe(seconds(OLDER))
    // its mode takes owner write away, which does not stop the owner setting its times
    expect(mtimeOf(path.join(dest, 'empty'))).toBe(seconds(SAVED))
    expect(statSync(path.join(dest, 'empty')).mode & 0o777).toBe(0o555)
  })

  it('sets the mtime of a directory merged into an existing one after the merge moved entries in', async () => {
    const dest = tempDir()
    mkdirSync(path.join(dest, 'src'))
    writeFileSync(path.join(dest, 'src', 'mine.txt'), 'kept')
    utimesSync(path.join(dest, 'src'), new Date(), new Date())
    await extract(dest, true)
    expect(mtimeOf(path.join(dest, 'src'))).toBe(seconds(OLDER))
    expect(statSync(path.join(dest, 'src', 'mine.txt')).isFile()).toBe(true)
  })

  it('keeps sub-second mtimes from PAX records', async () => {
    const dest = path.join(tempDir(), 'dest')
    // node-tar's Pax encoder takes the Date it writes as `mtime=1700000000.25`
    const pax = { mtime: new Date(1700000000250) } as unknown as Record<string, string>
    await extract(dest, true, [{ path: 'precise.txt', body: 'x', pax }])
    expect(mtimeOf(path.join(dest, 'precise.txt'))).toBeCloseTo(1700000000.25, 3)
  })
})

describe('without restoreMtimes (pull mode) entries get the extraction time', () => {
  it('ignores the archive mtimes of files, symlinks and directories', async () => {
    const dest = path.join(tempDir(), 'dest')
    const before = Date.now() / 1000 - 5
    await extract(dest)
    for (const file of ['src/deep/a.txt', 'src/b.txt', 'src', 'src/deep', 'empty']) {
      expect(mtimeOf(path.join(dest, file))).toBeGreaterThan(before)
    }
    expect(lmtimeOf(path.join(dest, 'src/link'))).toBeGreaterThan(before)
  })
})
