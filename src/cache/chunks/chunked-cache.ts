import type { Readable } from 'node:stream'
import type { Descriptor } from '../../oci/descriptor.js'
import type { Logger } from '../../oci/logger.js'
import type { Repository } from '../../oci/repository.js'
import { findNewestMatch } from '../cache-index.js'
import { readIndex, type CacheRegistry } from '../cache-lookup.js'
import { cacheContentsOf, type CacheContents } from '../cache-manifest.js'
import { buildChunkMap, ChunkMapError, readChunkMap, type ChunkedPath, type ChunkMap } from './chunk-map.js'
import type { SavedChunk } from './chunked-save.js'

// A map larger than this is refused unread: 16,384 chunks at ~80 bytes each is 1.3 MB.
const MAX_MAP_BYTES = 8 << 20

export type ChunkFetcher = Pick<Repository, 'fetchBlob'>

/** A chunked cache's map, fetched (its digest checked as it streams) and checked against the manifest. */
export async function loadChunkMap(
  repo: ChunkFetcher,
  contents: Extract<CacheContents, { format: 'chunked' }>,
): Promise<ChunkMap> {
  if (contents.chunkMap.size > MAX_MAP_BYTES)
    throw new ChunkMapError(`${contents.chunkMap.size} bytes is larger than a map can be`)
  const parts: Buffer[] = []
  for await (const part of (await repo.fetchBlob(contents.chunkMap)) as Readable) parts.push(part as Buffer)
  return readChunkMap(Buffer.concat(parts), contents.layers)
}

/** What a save can reference instead of sending: the base cache's chunks by uncompressed digest. */
export interface BaseChunks {
  /** The cache they come from, for the log */
  key: string
  sizeClass: number
  known: Map<string, Descriptor>
}

/**
 * The chunks the registry holds for these paths, from the cache this job restored (`restored`:
 * its manifest's tag or digest) or, when it restored none (or one saved before chunking), the
 * newest cache of the same paths listed in the scope's index. Anything that goes wrong only
 * costs the dedupe: undefined, and the save sends every chunk the registry lacks.
 */
export async function findBaseChunks(
  repo: CacheRegistry & ChunkFetcher,
  o: { restored?: { key: string; reference: string }; scope: string; version?: string },
  logger: Logger,
): Promise<BaseChunks | undefined> {
  const candidates: { key: string; reference: string }[] = []
  if (o.restored) candidates.push(o.restored)
  try {
    const newest = findNewestMatch((await readIndex(repo, o.scope, logger)).entries, [''], o.version)
    if (newest && newest.manifest.digest !== o.restored?.reference)
      candidates.push({ key: newest.key, reference: newest.manifest.digest })
  } catch (error) {
    logger.info(`Could not read the index of ${o.scope} for a base: ${(error as Error).message}`)
  }
  for (const candidate of candidates) {
    try {
      const { bytes } = await repo.getManifest(candidate.reference)
      const contents = cacheContentsOf(bytes, candidate.key, candidate.reference, o.version)
      if (contents.format !== 'chunked') continue
      const map = await loadChunkMap(repo, contents)
      const known = new Map<string, Descriptor>()
      for (const path of map.paths)
        for (const chunk of path.chunks) known.set(chunk.digest, contents.layers[chunk.layer] as Descriptor)
      return { key: candidate.key, sizeClass: map.sizeClass, known }
    } catch (error) {
      logger.info(`Not using ${candidate.key} as a base: ${(error as Error).message}`)
    }
  }
  return undefined
}

/**
 * The manifest's layers (each distinct chunk once, in the order first met) and the chunk map of
 * paths saved chunk by chunk, each with the annotations its layer would have in the one-layer
 * format (its `path` line and root).
 */
export function assembleChunkedCache(
  paths: { annotations: Record<string, string>; size: number; chunks: SavedChunk[] }[],
  sizeClass: number,
): { layers: Descriptor[]; map: { bytes: Buffer; descriptor: Descriptor } } {
  const layers: Descriptor[] = []
  const at = new Map<string, number>()
  const mapped: ChunkedPath[] = paths.map((p) => ({
    annotations: p.annotations,
    size: p.size,
    chunks: p.chunks.map((c) => {
      let layer = at.get(c.layer.digest)
      if (layer === undefined) {
        layer = layers.push({ mediaType: c.layer.mediaType, digest: c.layer.digest, size: c.layer.size }) - 1
        at.set(c.layer.digest, layer)
      }
      return { layer, digest: c.digest, size: c.size }
    }),
  }))
  return { layers, map: buildChunkMap({ sizeClass, paths: mapped }) }
}
