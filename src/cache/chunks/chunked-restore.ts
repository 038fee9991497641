import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { chunkSizes } from '../../archive/chunker.js'
import { sha256DigestOffThread, type Descriptor } from '../../oci/descriptor.js'
import { DigestMismatchError } from '../../oci/errors.js'
import type { ChunkRef } from './chunk-map.js'

const zstdDecompress = promisify(zlib.zstdDecompress)

// Compressed bytes downloaded (or on their way) ahead of the extraction, at most, by the sizes
// the manifest declares. Held compressed, they cost what they weigh on the wire: a compressible
// tail of the tree (text, logs) is downloaded far ahead while the extraction works through it,
// instead of the link idling behind a window full of inflated chunks. (At least four average
// chunks of the class: the classes above 2, for trees of tens of GB, have chunks of 8 MiB and up.)
const DOWNLOAD_AHEAD_BYTES = 24 << 20
// Uncompressed bytes decompressed and verified ahead of the extraction, at most (never fewer
// than one chunk): enough that the extraction never waits on the pool, little enough to stay
// out of the memory the compressed window holds.
const DECODE_AHEAD_BYTES = 4 << 20

// Capacities of the reused download buffers are multiples of this: a buffer serves any later chunk
// that fits, so the restore allocates its download buffers about once, not once per chunk (each
// new one is external memory the garbage collector notices only tens of MB later).
const BUFFER_STEP = 64 << 10

export interface ChunkFetchOptions {
  sizeClass: number
  /** Downloads at once: a download's slot frees when its last byte arrives, not when it is used */
  concurrency: number
  /** Told the size of each chunk as it is passed on (progress) */
  onChunk?: (bytes: number) => void
}

interface Slot {
  ref: ChunkRef
  /** The blob's declared size (the map's reader bounds it by the class's largest chunk) */
  compressedSize: number
  download?: Promise<Buffer>
  ready?: Promise<Buffer>
}

/**
 * The uncompressed tar of one path, assembled from its chunks in order. Two windows, both
 * bounded by bytes: up to `concurrency` downloads at once while the compressed bytes ahead of the
 * extraction stay within DOWNLOAD_AHEAD_BYTES (`fetch` checks each blob's digest as it streams;
 * each lands in one buffer of its declared size), and the first chunks of those, within
 * DECODE_AHEAD_BYTES, decompressed on libuv's pool and checked against the sha256 and size the
 * map gives them before a byte of them is passed on. A chunk that does not match errors the
 * stream, so the extraction fed by it fails and leaves its destination as it was: a map that
 * names the wrong chunk gives a miss, never a wrong tree.
 */
export function chunkedTarStream(
  chunks: ChunkRef[],
  layers: Descriptor[],
  fetch: (layer: Descriptor) => Promise<Readable>,
  o: ChunkFetchOptions,
): Readable {
  // a tree large enough for a larger size class (tens of GB) keeps a few downloads going
  const ahead = Math.max(DOWNLOAD_AHEAD_BYTES, 4 * chunkSizes(o.sizeClass).avg)
  // download buffers whose chunk is decompressed, kept for the next downloads while they and the
  // chunks ahead fit in the window together (a pool beside the window was the window again in
  // RSS); the smallest that fits is taken
  const free: Buffer[] = []
  let freeBytes = 0
  // compressed bytes admitted and not yet passed on (the downloads' buffers are within it)
  let compressedAhead = 0
  const take = (size: number): Buffer => {
    let best = -1
    for (let i = 0; i < free.length; i++) {
      const capacity = (free[i] as Buffer).length
      if (capacity >= size && (best < 0 || capacity < (free[best] as Buffer).length)) best = i
    }
    if (best < 0) return Buffer.allocUnsafeSlow(Math.ceil(Math.max(1, size) / BUFFER_STEP) * BUFFER_STEP)
    const buffer = free.splice(best, 1)[0] as Buffer
    freeBytes -= buffer.length
    return buffer
  }
  const give = (buffer: Buffer) => {
    if (freeBytes + buffer.length + compressedAhead > ahead) return
    free.push(buffer)
    freeBytes += buffer.length
  }
  const download = async (layer: Descriptor): Promise<Buffer> => {
    const body = await fetch(layer)
    // one buffer of the declared size, filled as the parts arrive: no list of parts joined at the
    // end (which held the chunk twice); the fetch stream fails a body longer or shorter than that
    const buffer = take(layer.size)
    const compressed = buffer.subarray(0, layer.size)
    let at = 0
    for await (const part of body) {
      const piece = part as Buffer
      if (at + piece.length > compressed.length)
        throw new DigestMismatchError(layer.digest, `more than ${layer.size} bytes`, 'a chunk')
      piece.copy(compressed, at)
      at += piece.length
    }
    if (at !== compressed.length)
      throw new DigestMismatchError(layer.digest, `${at} bytes, not ${layer.size}`, 'a chunk')
    return compressed
  }
  const decode = async (compressed: Buffer, ref: ChunkRef): Promise<Buffer> => {
    // the map's size bounds the output: a chunk that inflates further is refused, not held
    let bytes: Buffer
    try {
      // one output buffer of the chunk's size: at zlib's default 16 KiB pieces the main thread took
      // a callback per piece (a sixth of a restore's main-thread time)
      bytes = await zstdDecompress(compressed, {
        maxOutputLength: ref.size,
        chunkSize: ref.size + 64,
      })
    } catch (error) {
      throw new DigestMismatchError(ref.digest, `bytes zstd refuses (${(error as Error).message})`, 'a chunk')
    } finally {
      // zstd is done with the compressed bytes: their buffer (the whole of it) serves a later download
      give(Buffer.from(compressed.buffer))
    }
    const actual = await sha256DigestOffThread(bytes)
    if (bytes.length !== ref.size || actual !== ref.digest)
      throw new DigestMismatchError(ref.digest, `${actual} (${bytes.length} bytes)`, 'a chunk')
    return bytes
  }

  async function* assemble(): AsyncGenerator<Buffer> {
    // admitted and not yet passed on, in order; the first `decoding` of them are being (or are)
    // decompressed
    const slots: Slot[] = []
    let decoding = 0
    let next = 0
    let inFlight = 0
    let decodedAhead = 0
    let stopped = false
    const fill = () => {
      if (stopped) return
      while (next < chunks.length && inFlight < o.concurrency) {
        const ref = chunks[next] as ChunkRef
        const layer = layers[ref.layer] as Descriptor
        if (slots.length > 0 && compressedAhead + layer.size > ahead) break
        next++
        inFlight++
        compressedAhead += layer.size
        const fetched = download(layer).finally(() => {
          inFlight--
          fill()
        })
        // awaited in order below; until then a failure must not count as unhandled
        fetched.catch(() => {})
        slots.push({ ref, compressedSize: layer.size, download: fetched })
      }
      while (decoding < slots.length) {
        const slot = slots[decoding] as Slot
        if (decoding > 0 && decodedAhead + slot.ref.size > DECODE_AHEAD_BYTES) break
        slot.ready = (slot.download as Promise<Buffer>).then((compressed) => decode(compressed, slot.ref))
        slot.ready.catch(() => {})
        // the compressed bytes are the decode's alone from here: gone once it has them inflated
        slot.download = undefined
        decodedAhead += slot.ref.size
        decoding++
      }
    }
    try {
      fill()
      while (slots.length > 0) {
        const slot = slots[0] as Slot
        const bytes = await (slot.ready as Promise<Buffer>)
        slots.shift()
        decoding--
        compressedAhead -= slot.compressedSize
        decodedAhead -= slot.ref.size
        fill()
        o.onChunk?.(bytes.length)
        yield bytes
      }
    } finally {
      // the extraction stopped reading (or failed): start nothing more
      stopped = true
    }
  }
  return Readable.from(assemble(), { objectMode: false, highWaterMark: 1 })
}
