import * as core from '@actions/core'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { digestDirectory, packDirectoryToFile } from '../archive/pack.js'
import type { DigestOptions, PackResult } from '../archive/types.js'
import { Annotation } from '../oci/annotations.js'
import { RegistryError } from '../oci/errors.js'
import { buildManifest, EMPTY_CONFIG, InvalidManifestError, parseManifest } from '../oci/manifest.js'
import { MediaType } from '../oci/media-types.js'
import type { Descriptor } from '../oci/descriptor.js'
import { Repository } from '../oci/repository.js'
import type { Inputs } from './inputs.js'
import { actionsLogger, userAgent } from './logger.js'
import { networkOptions } from './network.js'
import { startProgress } from './progress.js'
import { provenanceAnnotations, sourceDateEpoch } from './provenance.js'
import { packageUrl } from './package-url.js'

export interface PushResult {
  digest: string
  ref: string
  tags: string[]
  /** Bytes of every blob and the manifest, uploaded or found already in the registry. */
  size: number
  /** Bytes actually sent (0 when the registry had every blob). */
  uploaded: number
  url?: string
  /** The directory layer's digest, for a plain download of it. */
  layerDigest?: string
  files?: number
  uncompressedSize?: number
  seconds: number
}

/** Packs `inputs.path` as one tar+gzip layer and publishes it under every tag. */
export async function pushDirectory(
  inputs: Inputs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PushResult> {
  const started = Date.now()
  const temp = await mkdtemp(path.join(env.RUNNER_TEMP || os.tmpdir(), 'oci-artifact-'))
  try {
    const layerFile = path.join(temp, 'layer.tar.gz')
    // The layer's title is the directory's name, as `oras push DIR` names it.
    const title = path.basename(inputs.path) || 'artifact'
    const packOptions = {
      level: inputs.compressionLevel,
      prefix: title,
      includeGit: inputs.includeGit,
      mtime: sourceDateEpoch(env),
    }
    const repo = openForPush(inputs)
    const reused = await core.group('Compare with the tag', () =>
      unchangedLayer(repo, inputs.tags[0] as string, inputs.path, title, packOptions),
    )
    const packed = reused
      ? undefined
      : await core.group('Pack', async () => {
          const result = await packDirectoryToFile(inputs.path, layerFile, {
            compression: 'gzip',
            ...packOptions,
          })
          core.info(describePack(result, (Date.now() - started) / 1000))
          return result
        })
    const layer: Descriptor = reused ?? {
      mediaType: MediaType.LayerTarGzip,
      digest: (packed as PackResult).digest,
      size: (packed as PackResult).size,
      annotations: {
        // packed with the tar's hash (hashTar defaults to true)
        [Annotation.OrasContentDigest]: (packed as PackResult).uncompressedDigest as string,
        [Annotation.OrasUnpack]: 'true',
        [Annotation.Title]: title,
      },
    }
    const manifest = buildManifest({
      artifactType: inputs.artifactType,
      config: EMPTY_CONFIG,
      layers: [layer],
      annotations: provenanceAnnotations(env, inputs.annotations),
    })

    const uploaded = await core.group('Upload', async () => {
      let sent = 0
      sent += await pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      if (!reused) sent += await pushBlobIfMissing(repo, layer, () => createReadStream(layerFile))
      return sent
    })
    const digest = await core.group('Tag', () => putManifestTags(repo, manifest, inputs.tags))
    return {
      digest,
      ref: `${inputs.registry}/${inputs.repository}@${digest}`,
      tags: inputs.tags,
      size: EMPTY_CONFIG.size + layer.size + manifest.bytes.length,
      uploaded,
      url: packageUrl(inputs.registry, inputs.repository),
      layerDigest: layer.digest,
      files: packed?.files,
      uncompressedSize: packed?.uncompressedSize,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

export function openForPush(inputs: Inputs): Repository {
  return new Repository({
    registry: inputs.registry,
    repository: inputs.repository,
    credentials: inputs.credentials,
    actions: ['pull', 'push'],
    logger: actionsLogger,
    userAgent: userAgent(),
    ...networkOptions(inputs),
  })
}

/** Uploads a blob unless the registry has it; returns the bytes sent. */
export async function pushBlobIfMissing(
  repo: Repository,
  blob: Descriptor,
  open: () => Readable,
): Promise<number> {
  if (await repo.blobExists(blob.digest)) {
    core.info(`${blob.digest} (${blob.size} bytes) is already in the registry: not uploaded`)
    return 0
  }
  const progress = startProgress(`Uploading ${blob.digest.slice(0, 19)}`, blob.size)
  await repo.pushBlob(blob, open, { onProgress: (bytes) => progress.add(bytes) })
  progress.done()
  return blob.size
}

/** Puts the manifest under every tag; the registry's digest is that of the exact bytes sent. */
export async function putManifestTags(
  repo: Repository,
  manifest: { bytes: Buffer; mediaType: string; digest: string },
  tags: string[],
): Promise<string> {
  for (const tag of tags) {
    await repo.putManifest(manifest.bytes, manifest.mediaType, tag)
    core.info(`Tagged ${tag} -> ${manifest.digest}`)
  }
  return manifest.digest
}

/**
 * Compressing is nearly all of a push's time, and a re-push of an unchanged tree should not pay
 * it again. When the first tag already names one of our directory manifests, hash the tree's tar
 * without writing or compressing it (several times faster) and compare with that layer's
 * uncompressed digest: equal, and the registry still has the layer, means the layer is reused as
 * it is. The hashing starts at once, while the registry answers, and stops if there is nothing to
 * compare with: the requests cost no time of their own on a re-push, and the hashing next to none
 * on a first push.
 */
async function unchangedLayer(
  repo: Repository,
  tag: string,
  dir: string,
  title: string,
  options: DigestOptions,
): Promise<Descriptor | undefined> {
  const stop = new AbortController()
  const hashing = digestDirectory(dir, { ...options, signal: stop.signal })
  // settled below on every path; until then a rejection must not count as unhandled
  hashing.catch(() => {})
  try {
    const previous = await previousLayer(repo, tag)
    const expected = previous?.annotations?.[Annotation.OrasContentDigest]
    if (!previous || !expected || previous.annotations?.[Annotation.Title] !== title) return undefined
    const [hashed, exists] = await Promise.all([hashing, repo.blobExists(previous.digest)])
    if (hashed.uncompressedDigest !== expected) {
      core.info(`${tag} holds other content (${expected}): packing anew`)
      return undefined
    }
    if (!exists) return undefined
    core.info(`The tree is unchanged since ${tag}: reusing its layer ${previous.digest}`)
    return previous
  } finally {
    // no file stays open and no read competes with the pack that may follow
    stop.abort()
    await hashing.catch(() => {})
  }
}

async function previousLayer(repo: Repository, tag: string): Promise<Descriptor | undefined> {
  try {
    const previous = await repo.getManifest(tag)
    const manifest = parseManifest(previous.bytes)
    const layers = manifest.layers ?? []
    const only = layers[0]
    return layers.length === 1 && only?.mediaType === MediaType.LayerTarGzip ? only : undefined
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    if (error instanceof InvalidManifestError) return undefined
    throw error
  }
}

function describePack(result: PackResult, seconds: number): string {
  const ratio = result.uncompressedSize > 0 ? (result.size / result.uncompressedSize).toFixed(3) : '1'
  return (
    `Packed ${result.files} entries, ${result.uncompressedSize} bytes -> ${result.size} bytes ` +
    `(ratio ${ratio}) in ${seconds.toFixed(1)} s: layer ${result.digest}`
  )
}
