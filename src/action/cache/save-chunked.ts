import * as core from '@actions/core'
import { streamTar } from '../../archive/pack.js'
import { walkEntries } from '../../archive/walk.js'
import { assembleChunkedCache, findBaseChunks, type BaseChunks } from '../../cache/chunks/chunked-cache.js'
import { sizeClassFor } from '../../cache/chunks/chunk-map.js'
import type { ChunkedSaveResult } from '../../cache/chunks/chunked-save.js'
import type { Descriptor } from '../../oci/descriptor.js'
import type { Repository } from '../../oci/repository.js'
import { uploadTreeLayers, type ChunkedTreePart } from '../layers/tree-layers.js'
import { actionsLogger, formatBytes } from '../runner/log.js'
import { cacheLayerAnnotations, type CachePathSource } from './paths.js'

export interface ChunkedLayers {
  /** The manifest's layers: each distinct chunk once */
  layers: Descriptor[]
  /** The chunk map's blob, the manifest's config (not yet uploaded) */
  map: { bytes: Buffer; descriptor: Descriptor }
  /** Bytes of chunks sent */
  sent: number
  size: number
}

/**
 * The paths of a cache saved chunk by chunk: each path's uncompressed tar (the same reproducible
 * tar the one-layer format compresses whole, mtimes kept) cut into content-defined chunks; only
 * the chunks neither the base cache nor the repository holds are compressed and sent.
 */
export async function saveChunkedPaths(
  repo: Repository,
  sources: CachePathSource[],
  o: { restored?: { key: string; reference: string }; scope: string; version: string; includeGit: boolean },
): Promise<ChunkedLayers> {
  const base = await findBaseChunks(repo, o, actionsLogger)
  // the base's size class, so its chunks can match; a larger one if the tree outgrew it
  const sizes = sources.map((source) => treeSize(source, o.includeGit))
  const sizeClass = Math.max(base?.sizeClass ?? 0, sizeClassFor(sizes.reduce((a, b) => a + b, 0)))
  logBase(base, sizeClass)
  // one chunked tree part per path, through the one path of tree layers
  const parts = sources.map((source, i): ChunkedTreePart => {
    let started = 0
    return {
      kind: 'chunked',
      label: source.line.given,
      size: sizes[i] as number,
      sizeClass,
      known: base?.known ?? new Map(),
      tar: (emit) => {
        started = Date.now()
        return core.group(`Chunk ${source.root}`, () =>
          streamTar(
            source.root,
            { includeGit: o.includeGit, select: source.select, mtime: 'preserve' },
            emit,
          ),
        )
      },
      onSaved: (saved) =>
        core.info(
          `Saved ${source.line.given}: ${saved.files} files, ${formatBytes(saved.uncompressedSize)} in ` +
            `${saved.chunks.length} chunks; ${formatBytes(saved.reused)} unchanged, ${saved.newChunks} new ` +
            `chunk(s), ${formatBytes(saved.sent)} uploaded in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        ),
    }
  })
  const saved = await uploadTreeLayers(repo, parts, { stream: true })
  const paths = sources.map((source, i) => {
    const part = saved.chunked[i] as ChunkedSaveResult
    return { annotations: cacheLayerAnnotations(source), size: part.uncompressedSize, chunks: part.chunks }
  })
  const { layers, map } = assembleChunkedCache(paths, sizeClass)
  return { layers, map, sent: saved.uploaded, size: layers.reduce((sum, layer) => sum + layer.size, 0) }
}

// the walk the pack makes, without reading a file: only the class depends on it
function treeSize(source: CachePathSource, includeGit: boolean): number {
  let bytes = 0
  for (const entry of walkEntries(source.root, { includeGit, select: source.select }))
    bytes += 512 + entry.size
  return bytes
}

function logBase(base: BaseChunks | undefined, sizeClass: number): void {
  if (base)
    core.info(
      `Chunks of ${base.key} (${base.known.size}) are referenced, not sent again (size class ${sizeClass})`,
    )
  else core.info(`No chunked cache of these paths to build on: every chunk the registry lacks is sent`)
}
