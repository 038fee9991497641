import zlib from 'node:zlib'

const SLICES = 16
const SLICE_SIZE = 4096
// Already-compressed data sits just under 8 bits per byte on these samples, text and binaries
// well below, a jar between (BENCHMARKS.md, "Measured choices"). Below this, no test.
const ENTROPY_FLOOR = 7.9
// Random-looking, allowing for the sampling bias. Deflating the sample (main-thread work) would
// only confirm it, so above this the chunk is stored without that test.
const ENTROPY_RANDOM = 7.99
// stored if deflate saves less than 2% on the sample
const STORE_RATIO = 0.98
// The sample's buffer, reused: the test runs synchronously, once per chunk, and a fresh one each
// time would be a sixteenth of the tree in garbage.
const sample = Buffer.allocUnsafe(SLICES * SLICE_SIZE)

// Deflating data that is already compressed costs as much CPU as the rest of a typical artifact
// (deflate is slower on random bytes than on text) and gains nothing: gzip -6
// itself emits such data as stored blocks. A chunk whose sampled order-0 entropy is that of
// compressed data, and whose sample deflate cannot shrink, is stored instead. The decision reads
// only the chunk's bytes, so the output stays reproducible.
export function looksIncompressible(chunk: Buffer): boolean {
  if (chunk.length < SLICES * SLICE_SIZE * 2) return false
  const step = Math.floor((chunk.length - SLICE_SIZE) / (SLICES - 1))
  for (let s = 0; s < SLICES; s++) chunk.copy(sample, s * SLICE_SIZE, s * step, s * step + SLICE_SIZE)
  const bits = entropy(sample)
  if (bits < ENTROPY_FLOOR) return false
  if (bits >= ENTROPY_RANDOM) return true
  return zlib.deflateRawSync(sample, { level: 6 }).length >= sample.length * STORE_RATIO
}

function entropy(bytes: Buffer): number {
  const counts = new Uint32Array(256)
  for (let i = 0; i < bytes.length; i++) (counts[bytes[i] as number] as number)++
  let bits = 0
  for (const count of counts) {
    if (count === 0) continue
    const p = count / bytes.length
    bits -= p * Math.log2(p)
  }
  return bits
}
