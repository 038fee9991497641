import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import { gzipContentDigest } from '../../../src/archive/gzip-content.js'
import { GZIP_HEADER } from '../../../src/archive/parallel-gzip.js'

// Why gzipContentDigest inflates the layer in one pass, in order, rather than its 1 MiB chunks on both
// cores at once: a check of each chunk's compressed piece on its own, with the previous chunk's
// tail as dictionary and `03 00` (a final empty fixed block) appended, has to tell whether a
// sequential reader is at a byte-aligned block boundary at the piece's end. It cannot: inside a
// FINAL block, the bits of `03 00` can finish a literal and an end-of-block code, so the piece
// passes while a sequential reader goes on decoding the next piece's bytes as that block's codes.
const MiB = 1 << 20
const FINAL_EMPTY_BLOCK = Buffer.from([0x03, 0x00])

function pieceChecks(
  piece: Buffer,
  expected: Buffer,
  dictionary: Buffer | undefined,
  last: boolean,
): boolean {
  const input = last ? piece : Buffer.concat([piece, FINAL_EMPTY_BLOCK])
  const { buffer, engine } = zlib.inflateRawSync(input, {
    ...(dictionary && { dictionary }),
    info: true,
  }) as unknown as {
    buffer: Buffer
    engine: zlib.InflateRaw
  }
  return buffer.equals(expected) && engine.bytesWritten === input.length
}

// Bits in deflate's order: each byte filled from its least significant bit.
function packBits(bits: number[]): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8))
  bits.forEach((bit, i) => (out[i >> 3]! |= bit << (i & 7)))
  return out
}

// Our framing around a raw deflate stream: the packer's header, then CRC-32 and size of `content`.
function gzipLayer(deflated: Buffer, content: Buffer): Buffer {
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(zlib.crc32(content) >>> 0, 0)
  trailer.writeUInt32LE(content.length >>> 0, 4)
  return Buffer.concat([GZIP_HEADER, deflated, trailer])
}

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`
const contentDigest = (layer: Buffer) => gzipContentDigest(Readable.from([layer]))

describe('checking a gzip layer piece by piece', () => {
  const first = Buffer.alloc(MiB, 'abcdefghijklmnopqrstuvwxyz')
  first.set([200, 201, 202, 203, 0x30], MiB - 5)
  const second = Buffer.alloc(MiB, 'the next chunk of the tar ')
  const tar = Buffer.concat([first, second])

  // the first chunk but its last 5 bytes, sync-flushed as our packer does; then by hand a FINAL
  // fixed block: its header, four 9-bit literals and the first bit of '0' (40 bits)
  function counterexample(): { pieceA: Buffer; pieceB: Buffer } {
    const bits = [1, 1, 0]
    for (const value of [200, 201, 202, 203]) {
      const code = 0b110010000 + value - 144
      for (let b = 8; b >= 0; b--) bits.push((code >> b) & 1)
    }
    bits.push(0)
    const flushed = zlib.deflateRawSync(first.subarray(0, MiB - 5), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    })
    const pieceA = Buffer.concat([flushed, packBits(bits)])
    const pieceB = zlib.deflateRawSync(second, { dictionary: first.subarray(MiB - 32768) })
    return { pieceA, pieceB }
  }

  it('would accept a layer that no gzip reader decodes to the expected tar', () => {
    const { pieceA, pieceB } = counterexample()
    expect(pieceChecks(pieceA, first, undefined, false)).toBe(true)
    expect(pieceChecks(pieceB, second, first.subarray(MiB - 32768), true)).toBe(true)
    // read in order, the same deflate stream is something else (or no stream at all)
    const inOrder = (() => {
      try {
        return zlib.inflateRawSync(Buffer.concat([pieceA, pieceB]), {
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
        })
      } catch {
        return undefined
      }
    })()
    expect(inOrder?.equals(tar)).not.toBe(true)
  })

  it("is not how our layer check works: gzipContentDigest refuses that layer as the tar's", async () => {
    const { pieceA, pieceB } = counterexample()
    const forged = gzipLayer(Buffer.concat([pieceA, pieceB]), tar)
    expect(await contentDigest(forged)).not.toBe(sha256(tar))
    // the same tar, deflated as one stream and framed the same way, is recognised
    expect(await contentDigest(gzipLayer(zlib.deflateRawSync(tar), tar))).toBe(sha256(tar))
  })
})
