import { describe, expect, it } from '@jest/globals'
import {
  chmodSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Writable } from 'node:stream'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { packDirectory, packDirectoryToFile } from '../../../src/archive/pack.js'
import type { Compression } from '../../../src/archive/types.js'
import { addHardLink, buildTree, snapshot, tempDir, treeSpec } from './tree.js'

async function roundTrip(source: string, compression: Compression, prefix?: string) {
  const work = tempDir()
  const layer = path.join(work, 'layer')
  const packed = await packDirectoryToFile(source, layer, { compression, prefix })
  const dest = path.join(work, 'out')
  const extracted = await extractToDirectory(createReadStream(layer), dest, {
    compression,
    stripPrefix: prefix,
    expectedUncompressedDigest: packed.uncompressedDigest,
  })
  return { packed, extracted, dest, layer }
}

describe('pack then extract', () => {
  it.each<Compression>(['gzip', 'zstd', 'none'])(
    'restores a varied tree exactly (%s)',
    async (compression) => {
      const source = buildTree(path.join(tempDir(), 'src'))
      const { packed, extracted, dest } = await roundTrip(source, compression)
      expect(snapshot(dest)).toEqual(snapshot(source))
      expect(extracted.files).toBe(packed.files)
      expect(extracted.uncompressedSize).toBe(packed.uncompressedSize)
      // 11 files + 4 symlinks in treeSpec
      expect(packed.files).toBe(15)
    },
  )

  it('keeps the executable bit and drops setuid', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const { dest } = await roundTrip(source, 'gzip')
    expect(statSync(path.join(dest, 'bin/run.sh')).mode & 0o111).toBe(0o111)
    expect(statSync(path.join(dest, 'bin/private-tool')).mode & 0o100).toBe(0o100)
    expect(statSync(path.join(dest, 'bin/setuid-tool')).mode & 0o7000).toBe(0)
    expect(statSync(path.join(dest, 'README.md')).mode & 0o111).toBe(0)
  })

  it('restores symlinks as links, dangling and absolute ones included, without following them', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const { dest } = await roundTrip(source, 'gzip')
    for (const link of ['link-to-readme', 'link-to-dir', 'dangling', 'absolute-link']) {
      expect(lstatSync(path.join(dest, link)).isSymbolicLink()).toBe(true)
    }
  })

  it('stores hard links inside the tree as links and restores them as one file', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    addHardLink(source, 'README.md', 'a/hard-readme')
    const { dest, layer } = await roundTrip(source, 'gzip')
    const listing = execFileSync('tar', ['-tvzf', layer], { encoding: 'utf8' })
    expect(listing).toMatch(/^h.* a\/hard-readme link to README\.md$/m)
    expect(lstatSync(path.join(dest, 'a/hard-readme')).ino).toBe(lstatSync(path.join(dest, 'README.md')).ino)
    expect(snapshot(dest)).toEqual(snapshot(source))
  })

  it('puts every entry under the prefix, starting with its own directory, and strips it back', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const { dest, layer } = await roundTrip(source, 'gzip', 'my-artifact')
    const names = execFileSync('tar', ['-tzf', layer], { encoding: 'utf8' }).trim().split('\n')
    expect(names[0]).toBe('my-artifact/')
    expect(names.every((n) => n.startsWith('my-artifact/'))).toBe(true)
    expect(snapshot(dest)).toEqual(snapshot(source))
  })

  it('leaves .git out unless asked, and keeps other hidden files', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    mkdirSync(path.join(source, '.git'))
    writeFileSync(path.join(source, '.git/config'), '[http] extraheader = AUTHORIZATION: basic c2VjcmV0\n')
    mkdirSync(path.join(source, 'vendor/lib'), { recursive: true })
    writeFileSync(path.join(source, 'vendor/lib/.git'), 'gitdir: ../../.git/modules/lib\n')
    const work = tempDir()
    await packDirectoryToFile(source, path.join(work, 'without.tgz'), { compression: 'gzip' })
    await packDirectoryToFile(source, path.join(work, 'with.tgz'), { compression: 'gzip', includeGit: true })
    const without = execFileSync('tar', ['-tzf', path.join(work, 'without.tgz')], { encoding: 'utf8' })
    const withGit = execFileSync('tar', ['-tzf', path.join(work, 'with.tgz')], { encoding: 'utf8' })
    expect(without).not.toMatch(/(^|\/)\.git(\/|$)/m)
    expect(without).toMatch(/^\.env\.example$/m)
    expect(withGit).toMatch(/^\.git\/config$/m)
    expect(withGit).toMatch(/^vendor\/lib\/\.git$/m)
  })

  it('packs an empty directory into a valid layer that extracts to an empty directory', async () => {
    const source = path.join(tempDir(), 'empty')
    mkdirSync(source)
    const { packed, dest } = await roundTrip(source, 'gzip')
    expect(packed.files).toBe(0)
    expect(snapshot(dest)).toEqual({})
    // two zero blocks and nothing else
    expect(packed.uncompressedSize).toBe(1024)
  })

  it('refuses to pack something that is not a directory', async () => {
    const work = tempDir()
    writeFileSync(path.join(work, 'file'), 'x')
    await expect(
      packDirectoryToFile(path.join(work, 'file'), path.join(work, 'l'), { compression: 'gzip' }),
    ).rejects.toThrow(/not a directory/)
  })
})

describe('reproducibility', () => {
  const digestOf = async (root: string, o: { mtime?: Date; prefix?: string } = {}) =>
    (await packDirectoryToFile(root, path.join(tempDir(), 'layer'), { compression: 'gzip', ...o })).digest

  it('gives the same digest after touching mtimes and creating files in another order', async () => {
    const first = buildTree(path.join(tempDir(), 'src'))
    const second = buildTree(path.join(tempDir(), 'src'), (spec) => [...spec].reverse())
    for (const [i, file] of ['README.md', 'bin/run.sh', 'a/b/c/d/e/f/deep.txt'].entries()) {
      utimesSync(path.join(second, file), new Date(1e12 + i), new Date(1e12 + i))
    }
    expect(await digestOf(second)).toBe(await digestOf(first))
  })

  it('gives the same digest whatever the umask the tree was created under', async () => {
    const first = buildTree(path.join(tempDir(), 'src'))
    const second = path.join(tempDir(), 'src')
    const previous = process.umask(0o077)
    try {
      buildTree(second)
      // files written under umask 077: group and other bits are gone
      expect(statSync(path.join(second, 'a')).mode & 0o077).toBe(0)
    } finally {
      process.umask(previous)
    }
    expect(await digestOf(second)).toBe(await digestOf(first))
  })

  it('changes the digest when content, an exec bit, or the mtime option changes', async () => {
    const root = buildTree(path.join(tempDir(), 'src'))
    const base = await digestOf(root)
    expect(await digestOf(root, { mtime: new Date(1700000000000) })).not.toBe(base)
    writeFileSync(path.join(root, 'README.md'), '# changed\n')
    const changed = await digestOf(root)
    expect(changed).not.toBe(base)
    chmodSync(path.join(root, 'README.md'), 0o755)
    expect(await digestOf(root)).not.toBe(changed)
  })

  it('writes the fixed mtime into every entry', async () => {
    const root = buildTree(path.join(tempDir(), 'src'))
    const layer = path.join(tempDir(), 'layer')
    await packDirectoryToFile(root, layer, { compression: 'gzip', mtime: new Date(1700000000000) })
    const listing = execFileSync('tar', ['--full-time', '-tvzf', layer], {
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    })
    const times = new Set(
      listing
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).slice(3, 5).join(' ')),
    )
    expect([...times]).toEqual(['2023-11-14 22:13:20'])
  })

  it('lists entries in bytewise order, each directory before its contents, owned by 0/0 without names', async () => {
    const root = buildTree(path.join(tempDir(), 'src'))
    const layer = path.join(tempDir(), 'layer')
    await packDirectoryToFile(root, layer, { compression: 'gzip' })
    const lines = execFileSync('tar', ['--numeric-owner', '-tvzf', layer], { encoding: 'utf8' })
      .trim()
      .split('\n')
    expect(lines.every((line) => line.split(/\s+/)[1] === '0/0')).toBe(true)
    const names = execFileSync('tar', ['-tzf', layer], { encoding: 'utf8' }).trim().split('\n')
    expect(names.indexOf('a/')).toBeLessThan(names.indexOf('a/b/'))
    expect(names.indexOf('.config/')).toBeLessThan(names.indexOf('.config/settings.json'))
    expect(names.indexOf('README.md')).toBeLessThan(names.indexOf('a/'))
    expect(treeSpec().length).toBeGreaterThan(10)
  })
})

describe('pack failures', () => {
  it.each(['gzip', 'zstd'] as const)(
    'rejects (%s), without an unhandled error event, when the destination fails mid-way',
    async (compression) => {
      const source = buildTree(path.join(tempDir(), 'src'))
      // zstd: more than two 4 MiB frames, so the failure finds frames in flight on both streams
      writeFileSync(path.join(source, 'big.bin'), randomBytes(compression === 'zstd' ? 10 << 20 : 3 << 20))
      let written = 0
      // a roomy buffer, so write() keeps returning true and the failure arrives while the pack is
      // busy elsewhere, not while it waits for 'drain'
      const out = new Writable({
        highWaterMark: 64 * 1024 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.length
          const error = written > 1024 * 1024 ? new Error('ENOSPC: no space left on device') : null
          setImmediate(() => callback(error))
        },
      })
      await expect(packDirectory(source, out, { compression })).rejects.toThrow(/ENOSPC/)
      expect(out.destroyed).toBe(true)
    },
  )
})
