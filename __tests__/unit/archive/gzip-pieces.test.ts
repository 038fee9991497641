import { describe, expect, it } from '@jest/globals'
import zlib from 'node:zlib'

// Why gzipMatches inflates the layer in one pass, in order, rather than its 1 MiB chunks on both
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

describe('checking a gzip layer piece by piece', () => {
  it('would accept a layer that no gzip reader decodes to the expected tar', () => {
    const first = Buffer.alloc(MiB, 'abcdefghijklmnopqrstuvwxyz')
    first.set([200, 201, 202, 203, 0x30], MiB - 5)
    const second = Buffer.alloc(MiB, 'the next chunk of the tar ')
    // the first chunk but its last 5 bytes, sync-flushed as our packer does; then by hand a
    // FINAL fixed block: its header, four 9-bit literals and the first bit of '0' (40 bits)
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
    expect(inOrder?.equals(Buffer.concat([first, second]))).not.toBe(true)
  })
})
