import zlib from 'node:zlib';
const SLICES = 16;
const SLICE_SIZE = 4096;
// Already-compressed data (gzip, zstd, brotli, random) measured 7.978-7.997 bits per byte on these
// samples; text and binaries 5-6.3; a jar (deflated entries + zip headers) 7.94. Below this, no test.
const ENTROPY_FLOOR = 7.9;
// Random-looking: the sampling bias alone puts random bytes at 7.997. Deflating the sample (2 ms on
// the main thread) would only confirm it, so above this the chunk is stored without that test.
const ENTROPY_RANDOM = 7.99;
// stored if deflate saves less than 2% on the sample
const STORE_RATIO = 0.98;
// The sample's buffer, reused: the test runs synchronously, once per 1 MiB chunk, and a fresh
// 64 KiB each time was 1/16 of the tree in garbage for the collector to find.
const sample = Buffer.allocUnsafe(SLICES * SLICE_SIZE);
// Deflating data that is already compressed costs as much CPU as the rest of a typical artifact
// (level 6 runs at ~37 MiB/s on random bytes, ~90 MiB/s on logs) and gains nothing: gzip -6
// itself emits such data as stored blocks. A chunk whose sampled order-0 entropy is that of
// compressed data, and whose sample deflate cannot shrink, is stored instead. The decision reads
// only the chunk's bytes, so the output stays reproducible.
export function looksIncompressible(chunk) {
    if (chunk.length < SLICES * SLICE_SIZE * 2)
        return false;
    const step = Math.floor((chunk.length - SLICE_SIZE) / (SLICES - 1));
    for (let s = 0; s < SLICES; s++)
        chunk.copy(sample, s * SLICE_SIZE, s * step, s * step + SLICE_SIZE);
    const bits = entropy(sample);
    if (bits < ENTROPY_FLOOR)
        return false;
    if (bits >= ENTROPY_RANDOM)
        return true;
    return zlib.deflateRawSync(sample, { level: 6 }).length >= sample.length * STORE_RATIO;
}
function entropy(bytes) {
    const counts = new Uint32Array(256);
    for (let i = 0; i < bytes.length; i++)
        counts[bytes[i]]++;
    let bits = 0;
    for (const count of counts) {
        if (count === 0)
            continue;
        const p = count / bytes.length;
        bits -= p * Math.log2(p);
    }
    return bits;
}
