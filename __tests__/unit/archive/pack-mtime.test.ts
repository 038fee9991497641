import { describe, expect, it } from '@jest/globals'
import { createReadStream, lstatSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { list } from 'tar'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { packDirectoryToFile } from '../../../src/archive/pack.js'
import type { PackOptions } from '../../../src/archive/types.js'
import { LONG_NAME, tempDir } from './tree.js'

// seconds since the epoch, with a fraction that must not travel
const FILE_TIME = 1_700_000_123.75
const DIR_TIME = 1_600_000_000.5

function datedTree(): string {
  const root = path.join(tempDir(), 'src')
  mkdirSync(path.join(root, 'target/debug'), { recursive: true })
  mkdirSync(path.join(root, path.dirname(LONG_NAME)), { recursive: true })
  writeFileSync(path.join(root, 'target/debug/app.o'), 'object code')
  writeFileSync(path.join(root, LONG_NAME), 'a name long enough for a PAX record')
  symlinkSync('debug/app.o', path.join(root, 'target/link'))
  utimesSync(path.join(root, 'target/debug/app.o'), FILE_TIME, FILE_TIME)
  utimesSync(path.join(root, LONG_NAME), FILE_TIME + 1, FILE_TIME + 1)
  utimesSync(path.join(root, 'target/debug'), DIR_TIME, DIR_TIME)
  return root
}

async function mtimes(source: string, o: Omit<PackOptions, 'compression'>) {
  const file = path.join(tempDir(), 'layer.tar')
  const packed = await packDirectoryToFile(source, file, { compression: 'none', ...o })
  const times: Record<string, number | undefined> = {}
  await list({ file, onReadEntry: (entry) => (times[entry.path] = entry.mtime?.getTime()) })
  return { packed, times }
}

describe("pack with mtime: 'preserve'", () => {
  it('stores every entry with its own mtime in whole seconds', async () => {
    const { times } = await mtimes(datedTree(), { mtime: 'preserve' })
    expect(times['target/debug/app.o']).toBe(1_700_000_123_000)
    expect(times[LONG_NAME]).toBe(1_700_000_124_000)
    expect(times['target/debug/']).toBe(1_600_000_000_000)
  })

  it('packs an unchanged tree to the same digest, whatever the sub-second part of its times', async () => {
    const source = datedTree()
    const first = await mtimes(source, { mtime: 'preserve' })
    // a restore that can only set whole seconds, or a touch within the same second
    utimesSync(path.join(source, 'target/debug/app.o'), FILE_TIME - 0.5, FILE_TIME - 0.5)
    expect((await mtimes(source, { mtime: 'preserve' })).packed).toEqual(first.packed)
    utimesSync(path.join(source, 'target/debug/app.o'), FILE_TIME + 1, FILE_TIME + 1)
    expect((await mtimes(source, { mtime: 'preserve' })).packed.digest).not.toBe(first.packed.digest)
  })

  it('round-trips through an extract that restores mtimes, as a cache save and restore do', async () => {
    const source = datedTree()
    const file = path.join(tempDir(), 'layer.tar.zst')
    await packDirectoryToFile(source, file, { compression: 'zstd', mtime: 'preserve' })
    const dest = path.join(tempDir(), 'out')
    await extractToDirectory(createReadStream(file), dest, { compression: 'zstd', restoreMtimes: true })
    expect(lstatSync(path.join(dest, 'target/debug/app.o')).mtimeMs).toBe(1_700_000_123_000)
    expect(lstatSync(path.join(dest, 'target/debug')).mtimeMs).toBe(1_600_000_000_000)
  })

  it('leaves the fixed mtime of a push alone', async () => {
    const { times } = await mtimes(datedTree(), { prefix: 'artifact' })
    expect(new Set(Object.values(times))).toEqual(new Set([0]))
  })
})
