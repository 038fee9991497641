import * as core from '@actions/core'
import { extractToDirectory } from '../../archive/extract.js'
import type { CacheContents } from '../../cache/cache-manifest.js'
import { loadChunkMap } from '../../cache/chunks/chunked-cache.js'
import { chunkedTarStream } from '../../cache/chunks/chunked-restore.js'
import type { Repository } from '../../oci/repository.js'
import type { PathPatterns } from '../inputs/path-inputs.js'
import { formatBytes, startProgress } from '../runner/log.js'
import { restoreRootOf } from './paths.js'

// Chunk downloads in flight per path: a chunk is ~1 MiB and each costs a GET and its redirect, so
// on a link with latency many must be on the wire at once to fill it (8 left a 400 Mbit/s link
// with 20 ms latency short of the one-layer restore: BENCHMARKS.md, incremental caches). A slot
// frees when its download ends, not when the extraction takes the chunk; memory stays within
// chunked-restore.ts's two windows (compressed and decompressed bytes ahead) whatever the count.
const CHUNK_DOWNLOADS = 16

/**
 * A chunked cache's paths, one after another (each already downloads CHUNK_DOWNLOADS chunks at
 * once, and paths inside one another must land in order anyway): each path's tar is assembled
 * from its verified chunks and extracted as a single-layer cache's is, into a staging folder
 * moved into place once whole, so a chunk that fails its digest leaves the path as it was.
 */
export async function restoreChunkedCache(
  repo: Repository,
  contents: Extract<CacheContents, { format: 'chunked' }>,
  patterns: PathPatterns,
): Promise<{ files: number; bytes: number; paths: number }> {
  const map = await loadChunkMap(repo, contents)
  // every path's place is known before any download: a path this job does not name fails first
  const roots = map.paths.map((p) =>
    restoreRootOf(
      { mediaType: '', digest: contents.chunkMap.digest, size: 0, annotations: p.annotations },
      patterns,
    ),
  )
  let files = 0
  let bytes = 0
  for (const [i, path] of map.paths.entries()) {
    const root = roots[i] as string
    const progress = startProgress(`Restoring ${root}`, path.size)
    const tar = chunkedTarStream(path.chunks, contents.layers, (layer) => repo.fetchBlob(layer), {
      sizeClass: map.sizeClass,
      concurrency: CHUNK_DOWNLOADS,
      onChunk: (bytes) => progress.add(bytes),
    })
    const result = await extractToDirectory(tar, root, { compression: 'none', restoreMtimes: true })
    progress.done()
    core.info(
      `Restored ${root}: ${result.files} files, ${formatBytes(result.uncompressedSize)} from ${path.chunks.length} chunks`,
    )
    files += result.files
    bytes += result.uncompressedSize
  }
  return { files, bytes, paths: map.paths.length }
}
