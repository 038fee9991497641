import * as core from '@actions/core'
import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable, type Writable } from 'node:stream'
import { packDirectory } from '../archive/pack.js'
import type { PackResult } from '../archive/types.js'
import { publishCache } from '../cache/cache-publish.js'
import { cacheTag } from '../cache/cache-tag.js'
import { RegistryError } from '../oci/errors.js'
import { EMPTY_CONFIG } from '../oci/manifest.js'
import type { Descriptor } from '../oci/descriptor.js'
import { MediaType } from '../oci/media-types.js'
import { uploadProducedBlob } from '../oci/upload/produced-upload.js'
import { githubCacheAvailable, saveToGitHubCache } from './cache-fallback.js'
import type { CacheState } from './cache-state.js'
import { describeError } from './errors.js'
import { formatBytes } from './format.js'
import type { Inputs } from './inputs.js'
import { actionsLogger } from './logger.js'
import { startProgress } from './progress.js'
import { openForPush, pushBlobIfMissing } from './push.js'

/**
 * The post step's save: pack `state.path` as one tar+zstd layer, upload it unless the registry
 * has it, tag the manifest and list it in the scope's index. A registry that refuses the push or
 * cannot be reached sends the save to GitHub's cache service instead. Never throws for a cache
 * problem: at worst the next job misses.
 */
export async function saveCache(
  inputs: Inputs,
  state: CacheState,
  now: () => Date = () => new Date(),
): Promise<void> {
  if (state.hit && !state.update) {
    core.info(`Cache hit occurred on the primary key ${state.key}, not saving cache.`)
    return
  }
  if (!isDirectory(state.path)) {
    core.warning(`Path ${state.path} is not a directory: not saving the cache.`)
    return
  }
  if (state.registryFailed) {
    await saveToFallback(state, 'the registry could not be used when restoring')
    return
  }

  const where = `${inputs.registry}/${inputs.repository}`
  const repo = openForPush(inputs)
  const tag = cacheTag(state.scope, state.key)
  try {
    // Keys are immutable, as in actions/cache: another job may have saved this one since we looked.
    if (!state.update && (await repo.headManifest(tag))) {
      core.info(`Cache ${state.key} was saved by another job meanwhile: not saving it again.`)
      return
    }
  } catch (error) {
    await saveToFallback(state, `${where}: ${describeError(error)}`)
    return
  }

  const temp = await mkdtemp(path.join(process.env.RUNNER_TEMP || os.tmpdir(), 'oci-cache-'))
  try {
    const started = Date.now()
    // The config blob ({}) goes up while the tree is packed, not after: three requests (HEAD, POST,
    // PUT) fewer between the layer's upload and the manifest. It starts with the first pack, so a
    // save refused before that (401/403 on the upload) sends nothing; its failure is met where it
    // is awaited.
    let config: Promise<number> | undefined
    const startConfig = () => {
      config ??= pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      config.catch(() => undefined)
    }
    // After a miss the layer is packed straight into the upload: the save takes about as long as
    // the pack instead of pack plus upload, with no copy on disk meanwhile. Should that upload fail,
    // the module packs the tree again into a file and sends that (the pack is reproducible). After
    // a restore (a restore-keys match, or an update) the tree may pack to a layer the registry has:
    // only the digest tells, so the pack comes first and an existing layer is not sent again.
    let layerUpload: Awaited<ReturnType<typeof uploadProducedBlob>>
    try {
      layerUpload = await uploadProducedBlob(
        repo,
        {
          label: 'the cache layer',
          produce: async (out, into) => {
            startConfig()
            return layerOf(
              await core.group(
                into === 'upload' ? `Pack ${state.path} and upload to ${where}` : `Pack ${state.path}`,
                () => pack(state.path, out, inputs.includeGit),
              ),
            )
          },
        },
        {
          stream: !state.matchedKey,
          spoolDir: temp,
          logger: actionsLogger,
          onUpload: (desc) => startProgress(`Uploading ${desc.digest.slice(0, 19)}`, desc.size),
        },
      )
    } catch (error) {
      // a token that may not push (a fork's pull request): no pack for an upload that cannot happen
      if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) {
        await saveToFallback(state, `${where}: ${describeError(error)}`)
        return
      }
      throw error
    }
    const layer = layerUpload.desc
    if (layerUpload.streamed) core.info(`Uploaded ${formatBytes(layer.size)} while packing`)
    try {
      const sent = await core.group(
        `Upload to ${where}`,
        async () => ((await config) ?? 0) + layerUpload.uploaded,
      )
      const saved = await publishCache(
        repo,
        { scope: state.scope, key: state.key, created: now().toISOString(), layer },
        actionsLogger,
      )
      core.info(
        `Cache saved with key ${state.key} as ${where}:${saved.tag} (${formatBytes(layer.size)}, ` +
          `${formatBytes(sent)} uploaded) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
    } catch (error) {
      await saveToFallback(state, `${where}: ${describeError(error)}`)
    }
  } catch (error) {
    core.warning(`Cache not saved: ${describeError(error)}`)
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

// zstd at its default level 3, as actions/cache's `zstd -T0`: the speed of a save is the point.
// Each entry keeps its mtime, as actions/cache's tar does: make, cargo and friends judge what is
// stale by comparing them with their own records. No sha256 of the tar: the restore checks the
// layer's digest as it downloads, and a digest of the same bytes before compression, from the
// same manifest, would add no trust (it cost 0.15 s of every 256 MiB save).
async function pack(dir: string, out: Writable, includeGit: boolean): Promise<PackResult> {
  const started = Date.now()
  const packed = await packDirectory(dir, out, {
    compression: 'zstd',
    includeGit,
    mtime: 'preserve',
    hashTar: false,
  })
  core.info(
    `Packed ${packed.files} files, ${formatBytes(packed.uncompressedSize)} -> ${formatBytes(packed.size)} ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  )
  return packed
}

function layerOf(packed: PackResult): Descriptor {
  return { mediaType: MediaType.LayerTarZstd, digest: packed.digest, size: packed.size }
}

async function saveToFallback(state: CacheState, reason: string): Promise<void> {
  if (!(await githubCacheAvailable())) {
    core.warning(`Cache not saved: ${reason}`)
    return
  }
  core.notice(`Saving the cache to GitHub's cache service instead of the registry: ${reason}`)
  try {
    if (await saveToGitHubCache(state.path, state.key)) {
      core.info(`Cache saved with key ${state.key} to GitHub's cache service`)
    }
  } catch (error) {
    core.warning(`Cache not saved to GitHub's cache service either: ${describeError(error)}`)
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
