import * as core from '@actions/core'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable, type Writable } from 'node:stream'
import { packDirectory } from '../../archive/pack.js'
import { splitTree } from '../../archive/split.js'
import type { PackResult } from '../../archive/types.js'
import { publishCache } from '../../cache/cache-publish.js'
import { cacheTag } from '../../cache/cache-tag.js'
import { ConnectionError, RegistryError } from '../../oci/errors.js'
import { EMPTY_CONFIG } from '../../oci/manifest.js'
import { MediaType } from '../../oci/media-types.js'
import { AuthError } from '../../oci/transport/auth.js'
import { RealmError } from '../../oci/transport/realm.js'
import { RedirectError } from '../../oci/transport/redirect.js'
import { isRetryableError } from '../../oci/transport/retry.js'
import { parsePathInput, pathContextOf } from '../inputs/path-inputs.js'
import { uploadTreeLayers, type TreePart } from '../layers/tree-layers.js'
import { partAnnotation } from '../layers/tree-parts.js'
import { actionsLogger, describeError, formatBytes } from '../runner/log.js'
import { openForPush, pushBlobIfMissing } from '../runner/registry.js'
import { githubCacheAvailable, saveToGitHubCache } from './fallback.js'
import { saveChunkedPaths } from './save-chunked.js'
import type { CacheInputs, CacheState } from './inputs.js'
import { cacheLayerAnnotations, collectCachePaths, pathsVersion, type CachePathSource } from './paths.js'

/**
 * The post step's save, as actions/cache's saveCache: the steps in order, then one catch. Each
 * `path` line is packed as its own tar+zstd layer (several above max-layer-size), uploaded unless
 * the registry has it, and the manifest is tagged and listed in the scope's index. A registry that
 * refuses or cannot be reached sends the save to GitHub's cache service instead; anything else is
 * a warning. Never throws: at worst the next job misses.
 */
export async function saveCache(
  inputs: CacheInputs,
  state: CacheState,
  now: () => Date = () => new Date(),
  o: { step?: 'post' | 'save' } = {},
): Promise<SaveOutcome> {
  if (state.hit && !state.update) {
    core.info(`Cache hit occurred on the primary key ${state.key}, not saving cache.`)
    return { saved: false, reason: `exact hit on ${state.key}` }
  }
  const context = pathContextOf(process.env)
  const patterns = parsePathInput(state.paths.join('\n'), context)
  const { sources, missing } = await collectCachePaths(patterns, {
    workspace: context.workspace,
    includeGit: inputs.includeGit,
  })
  if (sources.length === 0) {
    // actions/cache's wording
    core.warning(
      `Path Validation Error: Path(s) specified in the action for caching do(es) not exist, hence no cache is being saved.`,
    )
    return { saved: false, reason: 'no path matched anything' }
  }
  if (missing.length > 0) core.info(`Not in the cache (nothing there): ${missing.join(', ')}`)
  if (state.registryFailed) {
    return saveToFallback(state, 'the registry could not be used when restoring')
  }

  const where = `${inputs.registry}/${inputs.repository}`
  const version = pathsVersion(patterns)
  const tag = cacheTag(state.scope, state.key, version)
  const repo = openForPush(inputs)
  const temp = await mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'oci-cache-'))
  try {
    // Keys are immutable, as in actions/cache: another job may have saved this one since we looked.
    if (!state.update && (await repo.headManifest(tag))) {
      // a save step cannot know what a restore step found: there the key existing is the rule
      if (o.step === 'save') {
        core.info(
          `Cache ${state.key} already exists (keys are immutable): not saving it. cache-update: true replaces it.`,
        )
        return {
          saved: false,
          reason: `${state.key} already exists (keys are immutable; cache-update: true replaces it)`,
        }
      }
      core.info(`Cache ${state.key} was saved by another job meanwhile: not saving it again.`)
      return { saved: false, reason: `${state.key} was saved by another job meanwhile` }
    }
    if (inputs.incremental)
      return await saveIncremental(repo, sources, state, version, where, now, inputs.includeGit)
    const started = Date.now()
    // The config blob ({}) goes up while the first path is packed, not after: three requests
    // (HEAD, POST, PUT) fewer between the last layer's upload and the manifest. It starts with the
    // first pack, so a save refused before that (401/403 on the upload) sends nothing; its failure
    // is met where it is awaited.
    let config: Promise<number> | undefined
    const startConfig = () => {
      config ??= pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      config.catch(() => undefined)
      return config
    }
    // After a miss the content is new: packed straight into the upload, no copy on disk
    // (BENCHMARKS.md, "Where the time goes": cache save). After a restore (a restore-keys match,
    // or an update) a path may be unchanged and pack to a layer the registry has, which only its
    // digest tells: packed first, and not uploaded again, so one changed path uploads alone.
    const saved = await uploadTreeLayers(repo, cacheParts(sources, inputs, where), {
      stream: !state.matchedKey,
      spoolDir: temp,
      onPack: startConfig,
    })
    const sent = saved.uploaded + (await startConfig())
    const published = await publishCache(
      repo,
      { scope: state.scope, key: state.key, created: now().toISOString(), layers: saved.layers, version },
      actionsLogger,
    )
    const size = saved.layers.reduce((sum, layer) => sum + layer.size, 0)
    const seconds = (Date.now() - started) / 1000
    core.info(
      `Cache saved with key ${state.key} as ${where}:${published.tag} (${sources.length} path(s), ` +
        `${formatBytes(size)}, ${formatBytes(sent)} uploaded) in ${seconds.toFixed(1)} s`,
    )
    return {
      saved: 'registry',
      where: `${where}:${published.tag}`,
      paths: sources.length,
      size,
      uploaded: sent,
      seconds,
    }
  } catch (error) {
    if (registryUnusable(error)) return saveToFallback(state, `${where}: ${describeError(error)}`)
    core.warning(`Cache not saved: ${describeError(error)}`)
    return { saved: false, reason: describeError(error) }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

/** What a save did, for the job summary. */
export type SaveOutcome =
  | { saved: 'registry'; where: string; paths: number; size: number; uploaded: number; seconds: number }
  | { saved: 'github'; reason: string }
  | { saved: false; reason: string }

/**
 * The registry refused (any status, its token service's included) or could not be reached: what
 * GitHub's cache service can stand in for. A pack that fails or a full disk would fail there too.
 */
function registryUnusable(error: unknown): boolean {
  return (
    error instanceof RegistryError ||
    error instanceof ConnectionError ||
    error instanceof AuthError ||
    error instanceof RealmError ||
    error instanceof RedirectError ||
    isRetryableError(error)
  )
}

/** One part per `path` line, or per piece of a line above max-layer-size, as a push splits a tree. */
function cacheParts(sources: CachePathSource[], inputs: CacheInputs, where: string): TreePart[] {
  return sources.flatMap((source) => {
    const cut = splitTree(source.root, inputs.maxLayerSize, {
      includeGit: inputs.includeGit,
      select: source.select,
    })
    const pieces = cut ?? [source.select]
    return pieces.map((select, i) => ({
      label: `the cache layer of ${source.line.given}`,
      pack: (out: Writable, into: 'upload' | 'file') =>
        core.group(
          into === 'upload' ? `Pack ${source.root} and upload to ${where}` : `Pack ${source.root}`,
          () => pack({ ...source, select }, out, inputs.includeGit),
        ),
      layer: (packed: PackResult) => ({
        mediaType: MediaType.LayerTarZstd,
        digest: packed.digest,
        size: packed.size,
        annotations: {
          ...cacheLayerAnnotations(source),
          ...(cut ? partAnnotation(i, pieces.length) : {}),
        },
      }),
    }))
  })
}

/**
 * The chunked save (`cache-incremental: true`): see save-chunked.ts. The chunk map goes up last, as the config
 * the manifest names; the manifest and the index are then written as for the one-layer format.
 */
async function saveIncremental(
  repo: ReturnType<typeof openForPush>,
  sources: CachePathSource[],
  state: CacheState,
  version: string,
  where: string,
  now: () => Date,
  includeGit: boolean,
): Promise<SaveOutcome> {
  const started = Date.now()
  const restored =
    state.source === 'registry' && state.matchedReference
      ? { key: state.matchedKey, reference: state.matchedReference }
      : undefined
  const saved = await saveChunkedPaths(repo, sources, {
    restored,
    scope: state.scope,
    version,
    includeGit,
  })
  const mapSent = await pushBlobIfMissing(repo, saved.map.descriptor, () => Readable.from([saved.map.bytes]))
  const published = await publishCache(
    repo,
    {
      scope: state.scope,
      key: state.key,
      created: now().toISOString(),
      layers: saved.layers,
      version,
      chunkMap: saved.map.descriptor,
    },
    actionsLogger,
  )
  const seconds = (Date.now() - started) / 1000
  const uploaded = saved.sent + mapSent
  core.info(
    `Cache saved with key ${state.key} as ${where}:${published.tag} (${sources.length} path(s), ` +
      `${saved.layers.length} chunks, ${formatBytes(saved.size)}, ${formatBytes(uploaded)} uploaded) ` +
      `in ${seconds.toFixed(1)} s`,
  )
  return {
    saved: 'registry',
    where: `${where}:${published.tag}`,
    paths: sources.length,
    size: saved.size,
    uploaded,
    seconds,
  }
}

// zstd at its default level 3, as actions/cache's `zstd -T0`: the speed of a save is the point.
// Each entry keeps its mtime, as actions/cache's tar does: make, cargo and friends judge what is
// stale by comparing them with their own records. No sha256 of the tar: the restore checks the
// layer's digest as it downloads, and a digest of the same bytes before compression, from the
// same manifest, would add no trust, only time (BENCHMARKS.md, "Where the time goes").
async function pack(source: CachePathSource, out: Writable, includeGit: boolean): Promise<PackResult> {
  const started = Date.now()
  const packed = await packDirectory(source.root, out, {
    compression: 'zstd',
    includeGit,
    select: source.select,
    mtime: 'preserve',
    hashTar: false,
  })
  core.info(
    `Packed ${source.line.given}: ${packed.files} files, ${formatBytes(packed.uncompressedSize)} -> ` +
      `${formatBytes(packed.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  return packed
}

async function saveToFallback(state: CacheState, reason: string): Promise<SaveOutcome> {
  if (!(await githubCacheAvailable())) {
    core.warning(`Cache not saved: ${reason}`)
    return { saved: false, reason }
  }
  core.notice(`Saving the cache to GitHub's cache service instead of the registry: ${reason}`)
  try {
    if (await saveToGitHubCache(state.paths, state.key)) {
      core.info(`Cache saved with key ${state.key} to GitHub's cache service`)
      return { saved: 'github', reason }
    }
    return { saved: false, reason: `${reason}; GitHub's cache service declined it too (see the log)` }
  } catch (error) {
    core.warning(`Cache not saved to GitHub's cache service either: ${describeError(error)}`)
    return { saved: false, reason: `${reason}; GitHub's cache service: ${describeError(error)}` }
  }
}
