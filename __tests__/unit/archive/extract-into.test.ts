import { describe, expect, it } from '@jest/globals'
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { createHash } from 'node:crypto'
import { gunzipSync, gzipSync } from 'node:zlib'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { packDirectoryToFile } from '../../../src/archive/pack.js'
import { rawTar } from './hostile-tar.js'
import { buildTree, snapshot, tempDir } from './tree.js'

async function layerOf(source: string) {
  const file = path.join(tempDir(), 'layer.tgz')
  const packed = await packDirectoryToFile(source, file, { compression: 'gzip' })
  return { bytes: readFileSync(file), packed }
}

// a source that delivers part of the layer, then fails the way a registry client does on a
// digest mismatch or a dropped connection
function failingSource(bytes: Buffer, after: number): Readable {
  let sent = false
  return new Readable({
    read() {
      if (!sent) {
        sent = true
        this.push(bytes.subarray(0, after))
      } else {
        this.destroy(new Error('digest mismatch: stream cut'))
      }
    },
  })
}

describe('a failed extraction leaves the destination as it was', () => {
  it('does not create a missing destination (nor its parent) when the source errors mid-way', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    writeFileSync(path.join(source, 'big.txt'), 'line of text\n'.repeat(100000))
    const { bytes } = await layerOf(source)
    const work = tempDir()
    const dest = path.join(work, 'new-parent', 'dest')
    await expect(
      extractToDirectory(failingSource(bytes, bytes.length / 2), dest, { compression: 'gzip' }),
    ).rejects.toThrow(/stream cut/)
    expect(readdirSync(work)).toEqual([])
  })

  it('leaves an existing destination untouched when the source errors mid-way', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    writeFileSync(path.join(source, 'big.txt'), 'line of text\n'.repeat(100000))
    const { bytes } = await layerOf(source)
    const work = tempDir()
    const dest = buildTree(path.join(work, 'dest'))
    writeFileSync(path.join(dest, 'README.md'), 'the user edited this')
    const before = snapshot(dest)
    await expect(
      extractToDirectory(failingSource(bytes, bytes.length / 2), dest, { compression: 'gzip' }),
    ).rejects.toThrow()
    expect(snapshot(dest)).toEqual(before)
    expect(readdirSync(work)).toEqual(['dest'])
  })

  it('refuses a layer whose uncompressed digest is not the expected one', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const { bytes } = await layerOf(source)
    const work = tempDir()
    const dest = path.join(work, 'dest')
    await expect(
      extractToDirectory(Readable.from([bytes]), dest, {
        compression: 'gzip',
        expectedUncompressedDigest: `sha256:${'0'.repeat(64)}`,
      }),
    ).rejects.toThrow(/uncompressed layer digest mismatch/)
    expect(readdirSync(work)).toEqual([])
  })

  it('checks a sha512 uncompressed digest too, and refuses one it cannot check before writing', async () => {
    const { bytes } = await layerOf(buildTree(path.join(tempDir(), 'src')))
    const sha512 = `sha512:${createHash('sha512').update(gunzipSync(bytes)).digest('hex')}`
    const work = tempDir()
    await extractToDirectory(Readable.from([bytes]), path.join(work, 'ok'), {
      compression: 'gzip',
      expectedUncompressedDigest: sha512,
    })
    await expect(
      extractToDirectory(Readable.from([bytes]), path.join(work, 'md5'), {
        compression: 'gzip',
        expectedUncompressedDigest: 'md5:d41d8cd98f00b204e9800998ecf8427e',
      }),
    ).rejects.toThrow(/cannot verify/)
    expect(readdirSync(work)).toEqual(['ok'])
  })

  it('refuses a destination that is a file, creating nothing', async () => {
    const work = tempDir()
    writeFileSync(path.join(work, 'dest'), 'a file')
    const { bytes } = await layerOf(buildTree(path.join(tempDir(), 'src')))
    await expect(
      extractToDirectory(Readable.from([bytes]), path.join(work, 'dest'), { compression: 'gzip' }),
    ).rejects.toThrow(/not a directory/)
    expect(readdirSync(work)).toEqual(['dest'])
  })
})

describe('extracting into an existing destination', () => {
  it('replaces the files the artifact holds and leaves the others alone', async () => {
    const source = buildTree(path.join(tempDir(), 'src'))
    const { bytes } = await layerOf(source)
    const dest = path.join(tempDir(), 'dest')
    mkdirSync(path.join(dest, 'a/b'), { recursive: true })
    writeFileSync(path.join(dest, 'README.md'), 'old readme')
    writeFileSync(path.join(dest, 'untracked.txt'), 'mine')
    writeFileSync(path.join(dest, 'a/b/local.txt'), 'mine too')
    // the artifact has a file where dest has a directory, and a directory where dest has a file
    mkdirSync(path.join(dest, 'empty-file/inner'), { recursive: true })
    writeFileSync(path.join(dest, 'empty'), 'a file where the artifact has a directory')
    await extractToDirectory(Readable.from([bytes]), dest, { compression: 'gzip' })
    const after = snapshot(dest)
    expect(after['untracked.txt']).toBeDefined()
    expect(after['a/b/local.txt']).toBeDefined()
    delete after['untracked.txt']
    delete after['a/b/local.txt']
    expect(after).toEqual(snapshot(source))
    expect(readdirSync(path.dirname(dest))).toEqual(['dest'])
  })

  it('replaces a symlink already in dest instead of writing through it', async () => {
    const work = tempDir()
    const outside = path.join(work, 'outside')
    mkdirSync(outside)
    const dest = path.join(work, 'dest')
    mkdirSync(dest)
    symlinkSync(outside, path.join(dest, 'sub'))
    symlinkSync(path.join(outside, 'file.txt'), path.join(dest, 'top.txt'))
    const tar = rawTar([
      { path: 'sub/', type: 'Directory' },
      { path: 'sub/file.txt', body: 'artifact' },
      { path: 'top.txt', body: 'artifact' },
    ])
    await extractToDirectory(Readable.from([gzipSync(tar)]), dest, { compression: 'gzip' })
    expect(readdirSync(outside)).toEqual([])
    expect(lstatSync(path.join(dest, 'sub')).isDirectory()).toBe(true)
    expect(lstatSync(path.join(dest, 'top.txt')).isFile()).toBe(true)
    expect(readFileSync(path.join(dest, 'sub/file.txt'), 'utf8')).toBe('artifact')
  })

  it('follows a destination that is itself a symlink to a directory the user chose', async () => {
    const work = tempDir()
    mkdirSync(path.join(work, 'real'))
    symlinkSync(path.join(work, 'real'), path.join(work, 'dest'))
    const source = buildTree(path.join(tempDir(), 'src'))
    const { bytes } = await layerOf(source)
    await extractToDirectory(Readable.from([bytes]), path.join(work, 'dest'), { compression: 'gzip' })
    expect(snapshot(path.join(work, 'real'))).toEqual(snapshot(source))
    expect(lstatSync(path.join(work, 'dest')).isSymbolicLink()).toBe(true)
  })
})

describe('modes', () => {
  it('restores directory modes that take owner access away, after filling them', async () => {
    const tar = rawTar([
      { path: 'locked/', type: 'Directory', mode: 0o555 },
      { path: 'locked/inside.txt', body: 'x', mode: 0o444 },
      { path: 'tool', body: '#!/bin/sh\n', mode: 0o6755 },
    ])
    const dest = path.join(tempDir(), 'dest')
    await extractToDirectory(Readable.from([tar]), dest, { compression: 'none' })
    expect(statSync(path.join(dest, 'locked')).mode & 0o777).toBe(0o555)
    expect(statSync(path.join(dest, 'locked/inside.txt')).mode & 0o777).toBe(0o444)
    // setuid and setgid never come out of an archive
    expect(statSync(path.join(dest, 'tool')).mode & 0o7777).toBe(0o755)
    chmodSync(path.join(dest, 'locked'), 0o755)
  })

  it('gives a new destination the mode of a directory the user makes, not a temp folder 0700', async () => {
    const { bytes } = await layerOf(buildTree(path.join(tempDir(), 'src')))
    const dest = path.join(tempDir(), 'dest')
    await extractToDirectory(Readable.from([bytes]), dest, { compression: 'gzip' })
    const reference = path.join(tempDir(), 'made-by-user')
    mkdirSync(reference)
    expect(statSync(dest).mode & 0o777).toBe(statSync(reference).mode & 0o777)
  })
})
