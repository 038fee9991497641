import * as core from '@actions/core'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
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
import type { Descriptor } from '../../oci/descriptor.js'
import { MediaType } from '../../oci/media-types.js'
import { uploadProducedBlob, type ProducedUpload } from '../../oci/upload/produced-upload.js'
import { cacheLayerAnnotations, collectCachePaths, pathsVersion, type CachePathSource } from './paths.js'
import { parsePathInput, type PathPatterns } from '../inputs/path-inputs.js'
import { partAnnotation } from '../layers/tree-parts.js'
import { actionsLogger, describeError, formatBytes, startProgress } from '../runner/log.js'
import { openForPush, pushBlobIfMissing } from '../runner/registry.js'
import { githubCacheAvailable, saveToGitHubCache } from './fallback.js'
import { saveChunkedPaths } from './save-chunked.js'
import type { CacheInputs, CacheState } from './inputs.js'

/**
 * The post step's save: pack each `path` line as its own tar+zstd layer, upload those the
 * registry does not have, tag the manifest and list it in the scope's index. A registry that
 * refuses the push or cannot be reached sends the save to GitHub's cache service instead. Never
 * throws for a cache problem: at worst the next job misses.
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
  const patterns = statePatterns(state)
  const { sources, missing } = await collectCachePaths(patterns, {
    workspace: workspaceOf(process.env),
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
  const repo = openForPush(inputs)
  const version = pathsVersion(patterns)
  const tag = cacheTag(state.scope, state.key, version)
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
  } catch (error) {
    return saveToFallback(state, `${where}: ${describeError(error)}`)
  }

  if (inputs.incremental) return saveIncremental(repo, sources, state, inputs, version, where, now)

  const temp = await mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'oci-cache-'))
  try {
    const started = Date.now()
    // The config blob ({}) goes up while the first path is packed, not after: three requests
    // (HEAD, POST, PUT) fewer between the last layer's upload and the manifest. Its failure is
    // met where it is awaited.
    // It starts with the first pack, so a save refused before that (401/403 on the upload) sends
    // nothing.
    let config: Promise<number> | undefined
    const startConfig = () => {
      config ??= pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      config.catch(() => undefined)
    }
    const layers: Descriptor[] = []
    let sent = 0
    for (const [i, source] of sources.entries()) {
      // a path above max-layer-size is saved as several layers, as a push splits a tree
      const parts = splitTree(source.root, inputs.maxLayerSize, {
        includeGit: inputs.includeGit,
        select: source.select,
      })
      const pieces = parts ? parts.map((select) => ({ ...source, select })) : [source]
      for (const [j, piece] of pieces.entries()) {
        const spool = path.join(temp, `path-${i}-${j}`)
        const saved = await saveLayer(repo, piece, state, inputs.includeGit, spool, where, startConfig)
        if (typeof saved === 'object' && 'saved' in saved) return saved
        const part = parts ? partAnnotation(j, pieces.length) : {}
        layers.push({ ...saved.layer, annotations: { ...cacheLayerAnnotations(source), ...part } })
        sent += saved.sent
      }
    }
    try {
      startConfig()
      sent += await (config as Promise<number>)
      const published = await publishCache(
        repo,
        { scope: state.scope, key: state.key, created: now().toISOString(), layers, version },
        actionsLogger,
      )
      const size = layers.reduce((sum, layer) => sum + layer.size, 0)
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
      return saveToFallback(state, `${where}: ${describeError(error)}`)
    }
  } catch (error) {
    if (error instanceof UploadError) return saveToFallback(state, `${where}: ${describeError(error.cause)}`)
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

/** The registry would not take a layer: the save goes to the fallback, not to a warning. */
class UploadError extends Error {
  constructor(cause: unknown) {
    super('upload failed', { cause })
  }
}

/**
 * One path's layer in the registry. After a miss the content is new, so the layer is packed
 * straight into the upload (src/oci/upload/produced-upload.ts): the save takes about as long as
 * the pack instead of pack plus upload, and no copy goes to disk (writing one cost 0.35 s of a
 * 256 MiB save on two cores, measured). Should that upload fail, the module packs the path again,
 * into a file, which goes up with the usual retries; the pack is reproducible, so an unchanged tree
 * gives the same layer. When a cache was restored (a restore-keys match, or an update), the path
 * may be unchanged and pack to a layer the registry has: that is only known from the digest, so the
 * pack comes first and an existing layer is not uploaded again. That is also what lets a save in
 * which one path changed upload only that path.
 */
async function saveLayer(
  repo: ReturnType<typeof openForPush>,
  source: CachePathSource,
  state: CacheState,
  includeGit: boolean,
  spoolDir: string,
  where: string,
  started: () => void,
): Promise<{ layer: Descriptor; sent: number } | SaveOutcome> {
  await mkdir(spoolDir, { recursive: true })
  let upload: ProducedUpload
  try {
    upload = await uploadProducedBlob(
      repo,
      {
        label: `the cache layer of ${source.line.given}`,
        produce: async (out, into) => {
          started()
          return layerOf(
            await core.group(
              into === 'upload' ? `Pack ${source.root} and upload to ${where}` : `Pack ${source.root}`,
              () => pack(source, out, includeGit),
            ),
          )
        },
      },
      {
        stream: !state.matchedKey,
        spoolDir,
        logger: actionsLogger,
        onUpload: (desc) => startProgress(`Uploading ${desc.digest.slice(0, 19)}`, desc.size),
      },
    )
  } catch (error) {
    // a token that may not push (a fork's pull request): no pack for an upload that cannot happen
    if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) {
      return saveToFallback(state, `${where}: ${describeError(error)}`)
    }
    throw new UploadError(error)
  }
  if (upload.streamed) core.info(`Uploaded ${formatBytes(upload.desc.size)} while packing`)
  return { layer: upload.desc, sent: upload.uploaded }
}

/**
 * The chunked save (the default): see save-chunked.ts. The chunk map goes up last, as the config
 * the manifest names; the manifest and the index are then written as for the one-layer format.
 */
async function saveIncremental(
  repo: ReturnType<typeof openForPush>,
  sources: CachePathSource[],
  state: CacheState,
  inputs: CacheInputs,
  version: string,
  where: string,
  now: () => Date,
): Promise<SaveOutcome> {
  const started = Date.now()
  try {
    const restored =
      state.source === 'registry' && state.matchedReference
        ? { key: state.matchedKey, reference: state.matchedReference }
        : undefined
    const saved = await saveChunkedPaths(repo, sources, {
      restored,
      scope: state.scope,
      version,
      includeGit: inputs.includeGit,
    })
    const mapSent = await pushBlobIfMissing(repo, saved.map.descriptor, () =>
      Readable.from([saved.map.bytes]),
    )
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
  } catch (error) {
    if (error instanceof RegistryError || error instanceof ConnectionError)
      return saveToFallback(state, `${where}: ${describeError(error)}`)
    core.warning(`Cache not saved: ${describeError(error)}`)
    return { saved: false, reason: describeError(error) }
  }
}

function statePatterns(state: CacheState): PathPatterns {
  return parsePathInput(state.paths.join('\n'), {
    workspace: workspaceOf(process.env),
    home: process.env.HOME || process.env.USERPROFILE || os.homedir(),
    pathApi: process.platform === 'win32' ? path.win32 : path.posix,
  })
}

function workspaceOf(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_WORKSPACE || process.cwd()
}

// zstd at its default level 3, as actions/cache's `zstd -T0`: the speed of a save is the point.
// Each entry keeps its mtime, as actions/cache's tar does: make, cargo and friends judge what is
// stale by comparing them with their own records. No sha256 of the tar: the restore checks the
// layer's digest as it downloads, and a digest of the same bytes before compression, from the
// same manifest, would add no trust (it cost 0.15 s of every 256 MiB save).
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

function layerOf(packed: PackResult): Descriptor {
  return { mediaType: MediaType.LayerTarZstd, digest: packed.digest, size: packed.size }
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
