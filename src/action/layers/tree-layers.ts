import * as core from '@actions/core'
import { mkdir } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { Readable, type Writable } from 'node:stream'
import type { PackResult } from '../../archive/types.js'
import { saveChunkedTar, type ChunkedSaveResult } from '../../cache/chunks/chunked-save.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import {
  ExistenceProbe,
  uploadIfMissing,
  uploadProducedBlob,
  type BlobTarget,
} from '../../oci/upload/produced-upload.js'
import { actionsLogger, formatBytes, startProgress, uploadProgress } from '../runner/log.js'

// Parts in flight at once: two uploads keep the link busy while a part's last bytes go up; more
// would only hold more sessions open. Their packs take turns (oneAtATime): a pack already runs on
// every core, and the upload's spill lets the next part pack while the last one's bytes still go
// up; two packs at once cost memory for no speed (BENCHMARKS.md, "Scaling": the split tree).
const PARTS_IN_FLIGHT = 2

// Chunks of a chunked part settling at once: hashing and compressing take the pool's threads (one
// per core), the rest wait on the wire, where each new chunk costs a HEAD, a POST and a PUT:
// several in flight keep a link with latency busy. Memory: each holds at most one chunk.
const CHUNKS_IN_FLIGHT = Math.max(8, availableParallelism() + 2)
// New chunks (none of the base's) asked about before the existence check stops for the rest of
// the part, if the registry held none of them: a HEAD per chunk cost a full save about a sixth of
// its CPU, ours and the registry's (bench/notes/a26s.md)
const PROBED_CHUNKS = 16
// a line per chunk belongs in the debug log
const CHUNK_LOG = { ...actionsLogger, info: actionsLogger.debug }

/** One part of a tree (a whole directory, a cache path, or one part of a split) to pack and upload. */
export type TreePart = PackedTreePart | ChunkedTreePart

/** A part packed whole into one layer. */
export interface PackedTreePart {
  kind?: 'packed'
  /** For messages: `the layer of /w/dist`, `layer dist.part-1-of-3`, `the cache layer of ~/.npm` */
  label: string
  /** Names the part in the progress and "Uploaded" lines (a split's parts); else the digest does */
  name?: string
  /**
   * Packs the part into `out` (the caller opens its log group and logs what it packed); called
   * again, into a file, when the streamed upload failed: the pack is reproducible.
   */
  pack(out: Writable, into: 'upload' | 'file'): Promise<PackResult>
  /** The manifest's descriptor of what was packed, annotations included. */
  layer(packed: PackResult): Descriptor
}

/**
 * A part whose layers the chunker produces (a cache path saved incrementally): its uncompressed
 * tar cut into content-defined chunks, each new one a layer of its own (src/cache/chunks/).
 */
export interface ChunkedTreePart {
  kind: 'chunked'
  label: string
  /** Writes the part's uncompressed tar to `emit`, piece by piece */
  tar(emit: (bytes: Buffer) => Promise<void>): Promise<{ uncompressedSize: number; files: number }>
  /** The size of the part's tree, for the progress line (0: unknown) */
  size: number
  sizeClass: number
  /** Chunks the registry holds, by uncompressed digest: referenced, not sent */
  known: Map<string, Descriptor>
  /** Called once every chunk of the part is in the registry (the caller's log line) */
  onSaved?(saved: ChunkedSaveResult): void
}

export interface TreeLayersOptions {
  /**
   * true: pack straight into the upload (new content: the push takes about the longer of pack
   * and upload, not their sum); false: pack into a file first, uploaded only when the registry
   * does not hold its digest (content that may be unchanged, as a cache saved after a partial hit).
   */
  stream: boolean
  /** A folder the caller owns and removes: each packed part's spill and file copy go below it
   * (chunked parts keep their chunks in memory and need none) */
  spoolDir?: string
  /** Called as each pack starts (the cache save starts its config blob with the first). */
  onPack?: () => void
}

export interface TreeLayers {
  /** The packed parts' layers, in the order of the parts, whatever order they finished in */
  layers: Descriptor[]
  /** Each chunked part's chunks, at the part's index (a packed part: undefined) */
  chunked: (ChunkedSaveResult | undefined)[]
  /** Bytes sent (0 for a part the registry had) */
  uploaded: number
  files: number
  uncompressedSize: number
}

/**
 * The one path by which tree layers go up (push, split push, cache save, chunked cache save), in
 * the manner of go-containerregistry's writeLayers: every part through one pool of
 * PARTS_IN_FLIGHT, its pack (or chunker) one at a time. A packed part goes into its upload
 * (src/oci/upload/produced-upload.ts, which falls back to a file); a chunked part's chunks go up
 * as the chunker makes them; either way "skip if the registry has it" is decided in one place,
 * uploadIfMissing. A single layer is a split of one. The first failure stops parts not yet
 * started and is what this rejects with.
 */
export async function uploadTreeLayers(
  repo: BlobTarget,
  parts: TreePart[],
  o: TreeLayersOptions,
): Promise<TreeLayers> {
  const layers: (Descriptor | undefined)[] = new Array(parts.length)
  const result: TreeLayers = {
    layers: [],
    chunked: new Array(parts.length),
    uploaded: 0,
    files: 0,
    uncompressedSize: 0,
  }
  const packing = oneAtATime()
  await forEachLimited(parts, PARTS_IN_FLIGHT, async (part, i) => {
    if (part.kind === 'chunked') {
      // the chunker is this part's pack, and its uploads run while it cuts: one pack at a time
      const saved = await packing(() => {
        o.onPack?.()
        return uploadChunks(repo, part)
      })
      part.onSaved?.(saved)
      result.chunked[i] = saved
      result.uploaded += saved.sent
      result.files += saved.files
      result.uncompressedSize += saved.uncompressedSize
      return
    }
    const packed = await uploadPacked(repo, part, path.join(spoolDirOf(o), `part-${i + 1}`), packing, o)
    layers[i] = packed.desc
    result.uploaded += packed.uploaded
    result.files += packed.files
    result.uncompressedSize += packed.uncompressedSize
  })
  result.layers = layers.filter((layer): layer is Descriptor => layer !== undefined)
  return result
}

function spoolDirOf(o: TreeLayersOptions): string {
  if (o.spoolDir === undefined) throw new Error('a packed tree part needs a spool folder')
  return o.spoolDir
}

// A packed part: packed into its upload (or a file), through the one producer of blobs.
async function uploadPacked(
  repo: BlobTarget,
  part: PackedTreePart,
  spoolDir: string,
  packing: ReturnType<typeof oneAtATime>,
  o: TreeLayersOptions,
): Promise<{ desc: Descriptor; uploaded: number; files: number; uncompressedSize: number }> {
  await mkdir(spoolDir, { recursive: true })
  let packed: PackResult | undefined
  const upload = await uploadProducedBlob(
    repo,
    {
      label: part.label,
      produce: async (out, into) => {
        packed = await packing(() => {
          o.onPack?.()
          return part.pack(out, into)
        })
        return part.layer(packed)
      },
    },
    {
      stream: o.stream,
      spoolDir,
      logger: actionsLogger,
      onUpload: part.name ? (desc) => startProgress(`Uploading ${part.name}`, desc.size) : uploadProgress,
    },
  )
  if (upload.streamed) {
    const size = formatBytes(upload.desc.size)
    core.info(part.name ? `Uploaded ${part.name} (${size}) while packing` : `Uploaded ${size} while packing`)
  }
  const { files, uncompressedSize } = packed as PackResult
  return { desc: upload.desc, uploaded: upload.uploaded, files, uncompressedSize }
}

// A chunked part: each new chunk a layer of its own, through the one existence check of every
// upload, asked while the ExistenceProbe says so (a chunk another cache of the package holds is
// not sent again); its compressed bytes are in memory, so a failed try is simply sent again
// (Repository.pushBlob retries a replayable body).
async function uploadChunks(repo: BlobTarget, part: ChunkedTreePart): Promise<ChunkedSaveResult> {
  const progress = startProgress(`Chunking ${part.label}`, part.size || undefined)
  const probe = new ExistenceProbe(PROBED_CHUNKS)
  const saved = await saveChunkedTar(
    (emit) =>
      part.tar(async (bytes) => {
        progress.add(bytes.length)
        await emit(bytes)
      }),
    {
      sizeClass: part.sizeClass,
      known: part.known,
      concurrency: CHUNKS_IN_FLIGHT,
      put: async (layer, bytes) => {
        const ask = probe.ask
        const sent = await uploadIfMissing(repo, layer, () => Readable.from(bytes), {
          logger: CHUNK_LOG,
          ask,
        })
        if (ask) probe.saw(sent === 0)
        return sent
      },
    },
  )
  progress.done()
  return saved
}

/** Runs the works given to it one at a time, in the order given, whether the last failed or not. */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve()
  return (work) => {
    const run = last.then(work)
    last = run.catch(() => undefined)
    return run
  }
}
