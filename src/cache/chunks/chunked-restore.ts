import { webcrypto } from 'node:crypto'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { chunkSizes } from '../../archive/chunker.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { DigestMismatchError } from '../../oci/errors.js'
import type { ChunkRef } from './chunk-map.js'

const zstdDecompress = promisify(zlib.zstdDecompress)

// Compressed plus uncompressed bytes of the chunks downloaded ahead of the extraction, at most
// (by the sizes the manifest and the map declare): the restore's memory, whatever the tree's
// size. Typical 1 MiB chunks fill `concurrency` downloads well within it; a class's largest
// chunks fewer (4 of the 4 MiB maximum in class 0), never fewer than one.
const AHEAD_BYTES = 40 << 20

export interface ChunkFetchOptions {
  sizeClass: number
  /** Downloads at once (fewer when the class's chunks are large) */
  concurrency: number
  /** Told the size of each chunk as it is passed on (progress) */
  onChunk?: (bytes: number) => void
}

/**
 * The uncompressed tar of one path, assembled from its chunks in order: downloaded several at a
 * time (`fetch` checks each blob's digest as it streams), decompressed on libuv's pool, and each
 * checked against the sha256 and size the map gives it before a byte of it is passed on. A chunk
 * that does not match errors the stream, so the extraction fed by it fails and leaves its
 * destination as it was: a map that names the wrong chunk gives a miss, never a wrong tree.
 */
export function chunkedTarStream(
  chunks: ChunkRef[],
  layers: Descriptor[],
  fetch: (layer: Descriptor) => Promise<Readable>,
  o: ChunkFetchOptions,
): Readable {
  const { max } = chunkSizes(o.sizeClass)
  const cost = (ref: ChunkRef) => ref.size + Math.min((layers[ref.layer] as Descriptor).size, max)
  const load = async (ref: ChunkRef): Promise<Buffer> => {
    const layer = layers[ref.layer] as Descriptor
    const parts: Buffer[] = []
    for await (const part of await fetch(layer)) parts.push(part as Buffer)
    const compressed = Buffer.concat(parts)
    // the map's size bounds the output: a chunk that inflates further is refused, not held
    let bytes: Buffer
    try {
      // one output buffer of the chunk's size: at zlib's default 16 KiB pieces the main thread took
      // a callback per piece (a sixth of a restore's main-thread time)
      bytes = await zstdDecompress(compressed, {
        maxOutputLength: ref.size,
        chunkSize: Math.max(64, ref.size),
      })
    } catch (error) {
      throw new DigestMismatchError(ref.digest, `bytes zstd refuses (${(error as Error).message})`, 'a chunk')
    }
    const actual = `sha256:${Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex')}`
    if (bytes.length !== ref.size || actual !== ref.digest)
      throw new DigestMismatchError(ref.digest, `${actual} (${bytes.length} bytes)`, 'a chunk')
    return bytes
  }
  async function* assemble(): AsyncGenerator<Buffer> {
    const queue: { task: Promise<Buffer>; cost: number }[] = []
    let next = 0
    let held = 0
    const fill = () => {
      while (next < chunks.length && queue.length < o.concurrency) {
        const ref = chunks[next] as ChunkRef
        if (queue.length > 0 && held + cost(ref) > AHEAD_BYTES) break
        next++
        const task = load(ref)
        // awaited in order below; until then a failure must not count as unhandled
        task.catch(() => {})
        queue.push({ task, cost: cost(ref) })
        held += cost(ref)
      }
    }
    fill()
    while (queue.length > 0) {
      const { task, cost: done } = queue.shift() as { task: Promise<Buffer>; cost: number }
      const bytes = await task
      held -= done
      fill()
      o.onChunk?.(bytes.length)
      yield bytes
    }
  }
  return Readable.from(assemble(), { objectMode: false, highWaterMark: 1 })
}
