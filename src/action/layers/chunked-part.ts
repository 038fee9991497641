import { availableParallelism } from 'node:os'
import { Readable } from 'node:stream'
import { saveChunkedTar, type ChunkedSaveResult } from '../../cache/chunks/chunked-save.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { uploadIfMissing, type BlobWriter } from '../../oci/upload/produced-upload.js'
import { actionsLogger, startProgress } from '../runner/log.js'

/** A tree part saved chunk by chunk (a cache path): its uncompressed tar, cut and deduplicated. */
export interface ChunkedTreePart {
  label: string
  /** Writes the part's uncompressed tar to `emit`, chunk by chunk */
  tar(emit: (bytes: Buffer) => Promise<void>): Promise<{ uncompressedSize: number; files: number }>
  /** The size of the part's tree, for the progress line (0: unknown) */
  size: number
}

export interface ChunkedPartOptions {
  sizeClass: number
  /** Chunks the registry holds, by uncompressed digest: referenced, not sent */
  known: Map<string, Descriptor>
}

// Chunks settling at once: hashing and compressing take the pool's threads (one per core), the
// rest wait on the wire, where each new chunk costs a HEAD, a POST and a PUT: several in flight
// keep a link with latency busy. Memory: each holds at most one chunk (the class's max).
const CHUNKS_IN_FLIGHT = Math.max(8, availableParallelism() + 2)
const CHUNK_LOG = { ...actionsLogger, info: actionsLogger.debug }

/**
 * One chunked part: every new chunk goes up as a blob of its own, after the existence check every
 * upload of this action makes (a chunk another cache of the package holds is not sent again); a
 * chunk's compressed bytes are in memory, so a failed try is simply sent again (Repository.pushBlob
 * retries a replayable body).
 */
export async function uploadChunkedPart(
  repo: BlobWriter,
  part: ChunkedTreePart,
  o: ChunkedPartOptions,
): Promise<ChunkedSaveResult> {
  const progress = startProgress(`Chunking ${part.label}`, part.size || undefined)
  const result = await saveChunkedTar(
    (emit) =>
      part.tar(async (bytes) => {
        progress.add(bytes.length)
        await emit(bytes)
      }),
    {
      sizeClass: o.sizeClass,
      known: o.known,
      concurrency: CHUNKS_IN_FLIGHT,
      // the one existence check of every upload; a line per chunk belongs in the debug log
      put: (layer, bytes) => uploadIfMissing(repo, layer, () => Readable.from(bytes), { logger: CHUNK_LOG }),
    },
  )
  progress.done()
  return result
}
