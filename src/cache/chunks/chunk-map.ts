import { chunkSizes, MAX_SIZE_CLASS } from '../../archive/chunker.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { descriptorOf } from '../../oci/descriptor.js'

/**
 * A chunked cache (format `chunked-v1`): its manifest's layers are the distinct chunks, each the
 * zstd of a piece of the uncompressed tar of one `path` line, cut by content (src/archive/chunker.ts);
 * its config blob is this map, which lists for each path the chunks that make up its tar, in order,
 * each with the sha256 and size of its uncompressed bytes. Every blob is addressed by digest in the
 * manifest, so `oras copy`/`skopeo copy` copy a cache whole, and a registry's garbage collection
 * keeps every chunk that some kept manifest lists.
 */
export const CHUNK_MAP_MEDIA_TYPE = 'application/vnd.oci-artifact-action.cache.chunks.v1+json'
export const CHUNK_MEDIA_TYPE = 'application/vnd.oci-artifact-action.cache.chunk.v1+zstd'
// On the manifest: how its layers are to be read. A version that does not know the value refuses
// the cache as not its own (a miss), as the versions before chunking refuse these layers.
export const FORMAT_ANNOTATION = 'io.github.oci-artifact-action.cache.format'
export const CHUNKED_FORMAT = 'chunked-v1'
// the cut rule: the gear table, the masks and the size classes of src/archive/chunker.ts
const CHUNKING = 'fastcdc-gear32-v1'

// The size class is picked so that a path's tar has about this many chunks or fewer: a 4 GiB tree
// in 1 MiB chunks, a 100 GB one (class 5) in 32 MiB chunks. A chunk is never below the class's
// minimum (a quarter of the average) except the last of each path, so no cache has more than
// 4 x 4,096 chunks + one per path: a manifest below 3 MB, inside the 4 MiB registries accept.
export const TARGET_CHUNKS = 4096

export interface ChunkRef {
  /** Index into the manifest's layers */
  layer: number
  /** sha256 of the uncompressed chunk, `sha256:<hex>` */
  digest: string
  size: number
}

export interface ChunkedPath {
  /** The `path` line and root relation, as a layer of the single-layer format names them */
  annotations: Record<string, string>
  /** Bytes of the whole uncompressed tar */
  size: number
  chunks: ChunkRef[]
}

export interface ChunkMap {
  sizeClass: number
  paths: ChunkedPath[]
}

/** The smallest class whose average chunk keeps `bytes` within TARGET_CHUNKS chunks. */
export function sizeClassFor(bytes: number): number {
  let k = 0
  while (k < MAX_SIZE_CLASS && bytes > TARGET_CHUNKS * chunkSizes(k).avg) k++
  return k
}

export class ChunkMapError extends Error {
  constructor(reason: string) {
    super(`chunk map: ${reason}`)
    this.name = 'ChunkMapError'
  }
}

export function buildChunkMap(map: ChunkMap): { bytes: Buffer; descriptor: Descriptor } {
  const doc = {
    chunking: CHUNKING,
    sizeClass: map.sizeClass,
    paths: map.paths.map((p) => ({
      annotations: p.annotations,
      size: p.size,
      // [layer, hex, size]: a third of the bytes of named fields, for a map of thousands of chunks
      chunks: p.chunks.map((c) => [c.layer, c.digest.slice('sha256:'.length), c.size]),
    })),
  }
  const bytes = Buffer.from(JSON.stringify(doc), 'utf8')
  return { bytes, descriptor: descriptorOf(bytes, CHUNK_MAP_MEDIA_TYPE) }
}

/**
 * The map of a chunked cache whose manifest has `layers`, checked before anything is downloaded:
 * every chunk names a layer that is a chunk, no chunk is larger than its class allows (memory is
 * bounded by it), and the sizes add up. A digest is checked later, on the bytes.
 */
export function readChunkMap(bytes: Buffer, layers: Descriptor[]): ChunkMap {
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new ChunkMapError('not JSON')
  }
  const o = doc as { chunking?: unknown; sizeClass?: unknown; paths?: unknown }
  if (o.chunking !== CHUNKING) throw new ChunkMapError(`unknown chunking ${JSON.stringify(o.chunking)}`)
  const sizeClass = o.sizeClass
  if (
    typeof sizeClass !== 'number' ||
    !Number.isInteger(sizeClass) ||
    sizeClass < 0 ||
    sizeClass > MAX_SIZE_CLASS
  )
    throw new ChunkMapError(`bad size class ${JSON.stringify(sizeClass)}`)
  const { max } = chunkSizes(sizeClass)
  for (const layer of layers) {
    if (layer.mediaType !== CHUNK_MEDIA_TYPE) throw new ChunkMapError(`layer ${layer.digest} is not a chunk`)
    if (layer.size > maxCompressed(max))
      throw new ChunkMapError(`layer ${layer.digest} is too large for a chunk`)
  }
  if (!Array.isArray(o.paths) || o.paths.length === 0) throw new ChunkMapError('no paths')
  const paths = o.paths.map((p: unknown, i: number): ChunkedPath => {
    const entry = p as { annotations?: unknown; size?: unknown; chunks?: unknown }
    const annotations = entry.annotations as Record<string, unknown> | undefined
    if (
      typeof annotations !== 'object' ||
      annotations === null ||
      Object.values(annotations).some((v) => typeof v !== 'string')
    )
      throw new ChunkMapError(`path ${i + 1} has no annotations`)
    if (!Array.isArray(entry.chunks) || entry.chunks.length === 0)
      throw new ChunkMapError(`path ${i + 1} has no chunks`)
    let total = 0
    const chunks = entry.chunks.map((c: unknown, j: number): ChunkRef => {
      const [layer, hex, size] = Array.isArray(c) ? c : []
      if (
        typeof layer !== 'number' ||
        !Number.isInteger(layer) ||
        layer < 0 ||
        layer >= layers.length ||
        typeof hex !== 'string' ||
        !/^[0-9a-f]{64}$/.test(hex) ||
        typeof size !== 'number' ||
        !Number.isInteger(size) ||
        size < 1 ||
        size > max
      )
        throw new ChunkMapError(`chunk ${j + 1} of path ${i + 1} is malformed`)
      total += size
      return { layer, digest: `sha256:${hex}`, size }
    })
    if (entry.size !== total) throw new ChunkMapError(`path ${i + 1}'s chunks do not add up to its size`)
    return { annotations: annotations as Record<string, string>, size: total, chunks }
  })
  return { sizeClass, paths }
}

// zstd's worst case (ZSTD_COMPRESSBOUND: n + n/256 + a little), with room to spare
export function maxCompressed(max: number): number {
  return max + Math.ceil(max / 128) + 4096
}
