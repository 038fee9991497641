import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Chunker, chunkSizes } from '../../archive/chunker.js'
import { FrameCompressor } from '../../archive/parallel-zstd.js'
import { sha256DigestOffThread, type Descriptor } from '../../oci/descriptor.js'
import { CHUNK_MEDIA_TYPE } from './chunk-map.js'

/** A chunk of a path's tar as the map lists it: its uncompressed digest and size, and its blob. */
export interface SavedChunk {
  digest: string
  size: number
  layer: Descriptor
}

export interface ChunkedSaveOptions {
  sizeClass: number
  /** Chunks the registry holds (the base cache's), by uncompressed digest: referenced, not sent */
  known: Map<string, Descriptor>
  /** Uploads a new chunk's blob (its bytes in pieces, as zstd gave them) unless the registry has it; answers the bytes sent */
  put: (layer: Descriptor, bytes: Buffer[]) => Promise<number>
  /** Chunks hashed, compressed or uploading at once */
  concurrency: number
  level?: number
}

export interface ChunkedSaveResult {
  chunks: SavedChunk[]
  uncompressedSize: number
  files: number
  /** Chunks compressed and offered to the registry, and the bytes that went up */
  newChunks: number
  sent: number
  /** Uncompressed bytes found among the known chunks */
  reused: number
}

// Uncompressed bytes of chunks in flight at most (the count also stays within `concurrency`):
// what bounds a save's memory in the large size classes.
const IN_FLIGHT_BYTES = 64 << 20

/**
 * Cuts the tar that `produce` writes into content-defined chunks and settles each: hashed (sha256
 * of the uncompressed bytes, on libuv's pool through WebCrypto), then either found among the known
 * chunks, or compressed (zstd, on the pool) and handed to `put`. Unchanged content is recognised
 * by its hash and never compressed again. Chunks are settled several at a time, in any order;
 * the result lists them in the tar's order.
 */
export async function saveChunkedTar(
  produce: (emit: (bytes: Buffer) => Promise<void>) => Promise<{ uncompressedSize: number; files: number }>,
  o: ChunkedSaveOptions,
): Promise<ChunkedSaveResult> {
  const sizes = chunkSizes(o.sizeClass)
  const limit = Math.max(1, Math.min(o.concurrency, Math.floor(IN_FLIGHT_BYTES / sizes.max)))
  const results: SavedChunk[] = []
  const inFlight: Promise<void>[] = []
  // a chunk that occurs twice in one save (a file saved under two names) goes up once
  const pending = new Map<string, Promise<Descriptor>>()
  let newChunks = 0
  let sent = 0
  let reused = 0
  let failed: unknown
  // one long-lived zstd context per core, each chunk a frame of its own (as ParallelZstd): a
  // one-shot zstdCompress per chunk set up a context each time and joined its output on the main thread
  const lanes: FrameCompressor[] = []
  let compressed = 0
  const compress = (chunk: Buffer) => {
    const lane = compressed++ % Math.max(1, availableParallelism())
    return (lanes[lane] ??= new FrameCompressor(o.level ?? 3)).compress(chunk)
  }

  const settle = async (chunk: Buffer, at: number, release: () => void): Promise<void> => {
    let released = false
    try {
      const digest = await sha256DigestOffThread(chunk)
      const size = chunk.length
      const known = o.known.get(digest)
      if (known) {
        reused += size
        results[at] = { digest, size, layer: known }
        return
      }
      let layer = pending.get(digest)
      if (!layer) {
        newChunks++
        layer = (async () => {
          const parts = await compress(chunk)
          release()
          released = true
          const hash = createHash('sha256')
          let size = 0
          for (const part of parts) {
            hash.update(part)
            size += part.length
          }
          const blob: Descriptor = {
            mediaType: CHUNK_MEDIA_TYPE,
            digest: `sha256:${hash.digest('hex')}`,
            size,
          }
          // awaited first: `sent += await` would read `sent` before the wait and lose other chunks' bytes
          const put = await o.put(blob, parts)
          sent += put
          return blob
        })()
        pending.set(digest, layer)
      }
      results[at] = { digest, size, layer: await layer }
    } finally {
      if (!released) release()
    }
  }

  let count = 0
  const chunker = new Chunker(sizes, async (chunk) => {
    if (failed) throw failed
    const at = count++
    const task = settle(chunk, at, () => chunker.pool.release(chunk)).catch((error) => {
      failed ??= error
    })
    inFlight.push(task)
    while (inFlight.length >= limit) {
      await inFlight.shift()
      if (failed) throw failed
    }
  })
  try {
    const tar = await produce((bytes) => chunker.write(bytes))
    await chunker.end()
    await Promise.all(inFlight)
    if (failed) throw failed
    return { chunks: results, ...tar, newChunks, sent, reused }
  } catch (error) {
    await Promise.allSettled(inFlight)
    throw failed ?? error
  } finally {
    for (const lane of lanes) lane.close()
  }
}
