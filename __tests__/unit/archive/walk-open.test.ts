import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { closeSync, linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Writable } from 'node:stream'
import { packDirectory } from '../../../src/archive/pack.js'
import { walkTree, type TreeEntry } from '../../../src/archive/walk.js'
import { tempDir } from './tree.js'

const posix = process.platform !== 'win32'
const openFds = () => readdirSync('/proc/self/fd').length
const filter = { includeGit: false, includeHidden: true }
const without = ({ fd: _fd, ...rest }: TreeEntry) => rest

// a tree with what the open walk must tell apart from a regular file
function build(): string {
  const root = tempDir('walk-open-')
  mkdirSync(path.join(root, 'd/e'), { recursive: true })
  writeFileSync(path.join(root, 'd/small.txt'), 'small')
  writeFileSync(path.join(root, 'd/empty'), '')
  writeFileSync(path.join(root, 'd/e/big.bin'), Buffer.alloc(2_500_000, 7))
  linkSync(path.join(root, 'd/small.txt'), path.join(root, 'd/twin.txt'))
  symlinkSync('small.txt', path.join(root, 'd/link'))
  symlinkSync('e', path.join(root, 'd/dirlink'))
  execFileSync('mkfifo', [path.join(root, 'd/fifo')])
  return root
}

// POSIX only: on Windows the walk opens nothing (no O_NOFOLLOW), and there is no /proc or mkfifo
;(posix ? describe : describe.skip)('the walk with open files', () => {
  it('lists what the lstat walk lists, with an fd on regular files only, and leaves out a FIFO without waiting on it', () => {
    const root = build()
    const plain = [...walkTree(root, filter)]
    const opened = [...walkTree(root, filter, true)]
    try {
      expect(opened.map(without)).toEqual(plain)
      expect(opened.filter((e) => e.fd !== undefined).map((e) => e.relative)).toEqual([
        'd/e/big.bin',
        'd/empty',
        'd/small.txt',
        'd/twin.txt',
      ])
      expect(plain.every((e) => e.fd === undefined)).toBe(true)
    } finally {
      for (const entry of opened) if (entry.fd !== undefined) closeSync(entry.fd)
    }
  })

  it('packs every file and leaves none open, also when the pack fails midway', async () => {
    const root = build()
    const before = openFds()
    const sink = () =>
      new Writable({
        write(_chunk, _encoding, callback) {
          callback()
        },
      })
    const packed = await packDirectory(root, sink(), { compression: 'gzip', prefix: 'p', hashTar: true })
    expect(packed.files).toBe(6)
    expect(openFds()).toBe(before)

    let writes = 0
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(++writes > 1 ? new Error('disk full') : null)
      },
    })
    await expect(packDirectory(root, failing, { compression: 'none' })).rejects.toThrow('disk full')
    expect(openFds()).toBe(before)
  })
})
