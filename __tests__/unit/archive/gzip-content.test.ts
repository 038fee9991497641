import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import { gzipContentDigest } from '../../../src/archive/gzip-content.js'
import { packDirectoryToFile } from '../../../src/archive/pack.js'
import { buildTree, tempDir } from './tree.js'

// 64 KiB pieces, as a download delivers them: header and trailer straddle piece boundaries
const pieces = (bytes: Buffer) =>
  Readable.from(
    Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) =>
      bytes.subarray(i * 65536, (i + 1) * 65536),
    ),
  )
const digestOf = (bytes: Buffer) => gzipContentDigest(pieces(bytes))

async function ourLayer(): Promise<{ layer: Buffer; tarDigest: string; big: Buffer }> {
  const source = buildTree(path.join(tempDir(), 'src'))
  const big = randomBytes(3 * 1024 * 1024 + 5)
  writeFileSync(path.join(source, 'big.bin'), big)
  const file = path.join(tempDir(), 'layer.tar.gz')
  const packed = await packDirectoryToFile(source, file, { compression: 'gzip', prefix: 'dist' })
  return { layer: readFileSync(file), tarDigest: packed.uncompressedDigest as string, big }
}

describe('gzipContentDigest', () => {
  it('is the tar digest of a layer our packer made', async () => {
    const { layer, tarDigest } = await ourLayer()
    expect(await digestOf(layer)).toBe(tarDigest)
  })

  it('is the digest of what another layer holds, so other content never matches', async () => {
    const other = randomBytes(100_000)
    const sha = `sha256:${createHash('sha256').update(other).digest('hex')}`
    expect(await digestOf(zlib.gzipSync(other))).toBe(sha)
  })

  it('refuses bytes someone could add around our content', async () => {
    const { layer } = await ourLayer()
    const withComment = Buffer.from(layer)
    withComment[3] = 0x10 // FCOMMENT: a comment of anyone's choosing after the header
    const cases = {
      'trailing junk': Buffer.concat([layer, Buffer.from('payload')]),
      'an empty second member': Buffer.concat([layer, zlib.gzipSync(Buffer.alloc(0))]),
      'junk between the deflate stream and the trailer': Buffer.concat([
        layer.subarray(0, layer.length - 8),
        Buffer.from('xx'),
        layer.subarray(layer.length - 8),
      ]),
      'a comment flag in the header': withComment,
      'a wrong CRC': Buffer.concat([layer.subarray(0, layer.length - 8), Buffer.alloc(8)]),
      'a cut-off stream': layer.subarray(0, layer.length - 1000),
      'not gzip at all': randomBytes(5000),
    }
    for (const [name, bytes] of Object.entries(cases)) {
      expect([name, await digestOf(bytes)]).toEqual([name, undefined])
    }
  })

  it('refuses our tar itself in any gzip framing but ours', async () => {
    const { layer } = await ourLayer()
    const tar = zlib.gunzipSync(layer)
    const half = tar.length >> 1
    const withMtime = zlib.gzipSync(tar)
    withMtime.writeUInt32LE(1_700_000_000, 4) // MTIME: the header is no longer ours
    const cases = {
      'two members splitting the tar': Buffer.concat([
        zlib.gzipSync(tar.subarray(0, half)),
        zlib.gzipSync(tar.subarray(half)),
      ]),
      'our layer then an extra member of the tar': Buffer.concat([layer, zlib.gzipSync(tar)]),
      'a header with a modification time': withMtime,
    }
    for (const [name, bytes] of Object.entries(cases)) {
      expect([name, await digestOf(bytes)]).toEqual([name, undefined])
    }
  })

  it('tells a tree whose file changed in its very last byte from the one packed', async () => {
    const { layer, tarDigest, big } = await ourLayer()
    const tar = zlib.gunzipSync(layer)
    const tail = big.subarray(big.length - 64)
    const lastByte = tar.indexOf(tail) + tail.length - 1
    expect(tar.indexOf(tail)).toBeGreaterThan(0)
    const changed = Buffer.from(tar)
    changed[lastByte]! ^= 0xff
    const reframed = Buffer.from(zlib.gzipSync(changed))
    reframed.set(layer.subarray(0, 10)) // our exact header, so only the content differs
    const digest = await digestOf(reframed)
    expect(digest).toBe(`sha256:${createHash('sha256').update(changed).digest('hex')}`)
    expect(digest).not.toBe(tarDigest)
  })

  it('passes on an error of the source itself', async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error('download broke'))
      },
    })
    await expect(gzipContentDigest(failing)).rejects.toThrow('download broke')
  })
})
