import * as core from '@actions/core'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { packDirectoryToFile } from '../archive/pack.js'
import type { PackResult } from '../archive/types.js'
import { Annotation } from '../oci/annotations.js'
import { buildManifest, EMPTY_CONFIG } from '../oci/manifest.js'
import { MediaType } from '../oci/media-types.js'
import type { Descriptor } from '../oci/descriptor.js'
import { Repository } from '../oci/repository.js'
import type { Inputs } from './inputs.js'
import { registryHints } from './ghcr.js'
import { actionsLogger, userAgent } from './logger.js'
import { networkOptions } from './network.js'
import { startProgress } from './progress.js'
import { provenanceAnnotations, sourceDateEpoch } from './provenance.js'
import { packageUrl } from './package-url.js'
import { fileLayers, type LayerBlob } from './file-layers.js'
import { findPushSource, noFilesFound } from './push-source.js'
import { comparedTag, platformAnnotations, publishTags, type PlatformPush } from './publish-tags.js'
import { unchangedLayer } from './unchanged-layer.js'

export interface PushResult {
  digest: string
  ref: string
  tags: string[]
  /** Bytes of every blob and the manifest, uploaded or found already in the registry. */
  size: number
  /** Bytes actually sent (0 when the registry had every blob). */
  uploaded: number
  url?: string
  /** The manifest's layers, for the summary's download lines. */
  layers?: Descriptor[]
  /** A platform push: its own manifest and the index entries; `digest` is then the index's. */
  platform?: PlatformPush
  files?: number
  uncompressedSize?: number
  seconds: number
}

/**
 * Pushes what `path` names: one directory or a selection as one tar+gzip layer, a lone file (or,
 * with `format: files`, each file) as a layer of its own bytes; then publishes under every tag.
 * Undefined when `path` matched nothing and `if-no-files-found` is not `error`.
 */
export async function pushDirectory(
  inputs: Inputs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PushResult | undefined> {
  const started = Date.now()
  const source = await core.group('Find the files', () => findPushSource(inputs))
  if (source.kind === 'none') return noFilesFound(inputs)
  const temp = await mkdtemp(path.join(env.RUNNER_TEMP || os.tmpdir(), 'oci-artifact-'))
  try {
    const repo = openForPush(inputs)
    const content =
      source.kind === 'files'
        ? await core.group('Hash the files', async () => filesContent(await fileLayers(source.files)))
        : await treeLayer(repo, inputs, source, path.join(temp, 'layer.tar.gz'), env, started)
    const layers = content.blobs.map((blob) => blob.descriptor)
    const annotations = provenanceAnnotations(env, inputs.annotations)
    const manifest = buildManifest({
      artifactType: inputs.artifactType,
      config: EMPTY_CONFIG,
      layers,
      annotations: { ...annotations, ...platformAnnotations(inputs.platform) },
    })

    const uploaded = await core.group('Upload', async () => {
      let sent = 0
      sent += await pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      // a layer reused from the tag was found in the registry already
      if (!content.reused) {
        for (const blob of content.blobs) sent += await pushBlobIfMissing(repo, blob.descriptor, blob.open)
      }
      return sent
    })
    const published = await core.group('Tag', () =>
      publishTags(repo, manifest, inputs.tags, {
        platform: inputs.platform,
        overwrite: inputs.overwrite,
        annotations,
      }),
    )
    return {
      digest: published.digest,
      ref: `${inputs.registry}/${inputs.repository}@${published.digest}`,
      tags: inputs.tags,
      size: EMPTY_CONFIG.size + layers.reduce((sum, l) => sum + l.size, 0) + published.size,
      uploaded,
      url: packageUrl(inputs.registry, inputs.repository),
      layers,
      platform: published.platform,
      files: content.files,
      uncompressedSize: content.uncompressedSize,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

interface PushContent {
  blobs: LayerBlob[]
  /** One tar+gzip layer (a directory); otherwise every layer is a file */
  tarLayer: boolean
  /** The tag's own layer, unchanged: nothing to upload */
  reused?: boolean
  files?: number
  uncompressedSize?: number
}

function filesContent(blobs: LayerBlob[]): PushContent {
  for (const blob of blobs)
    core.info(`${blob.descriptor.annotations?.[Annotation.Title]}: ${blob.descriptor.digest}`)
  return { blobs, tarLayer: false, files: blobs.length, uncompressedSize: undefined }
}

/** The directory or selection as one tar+gzip layer, or the tag's layer when the tree is unchanged. */
async function treeLayer(
  repo: Repository,
  inputs: Inputs,
  source: { kind: 'directory'; root: string } | { kind: 'selection'; root: string; select: string[] },
  layerFile: string,
  env: NodeJS.ProcessEnv,
  started: number,
): Promise<PushContent> {
  // The layer's title is the directory's name, as `oras push DIR` names it.
  const title = path.basename(source.root) || 'artifact'
  const packOptions = {
    level: inputs.compressionLevel,
    prefix: title,
    includeGit: inputs.includeGit,
    includeHidden: inputs.includeHiddenFiles,
    select: source.kind === 'selection' ? source.select : undefined,
    mtime: sourceDateEpoch(env),
  }
  const reused = await core.group('Compare with the tag', () =>
    unchangedLayer(
      repo,
      comparedTag(inputs.tags[0] as string, inputs.platform),
      source.root,
      title,
      packOptions,
    ),
  )
  if (reused)
    return { blobs: [{ descriptor: reused, open: () => Readable.from([]) }], tarLayer: true, reused: true }
  const packed = await core.group('Pack', async () => {
    const result = await packDirectoryToFile(source.root, layerFile, { compression: 'gzip', ...packOptions })
    core.info(describePack(result, (Date.now() - started) / 1000))
    return result
  })
  const layer: Descriptor = {
    mediaType: MediaType.LayerTarGzip,
    digest: packed.digest,
    size: packed.size,
    annotations: {
      // packed with the tar's hash (hashTar defaults to true)
      [Annotation.OrasContentDigest]: packed.uncompressedDigest as string,
      [Annotation.OrasUnpack]: 'true',
      [Annotation.Title]: title,
    },
  }
  return {
    blobs: [{ descriptor: layer, open: () => createReadStream(layerFile) }],
    tarLayer: true,
    files: packed.files,
    uncompressedSize: packed.uncompressedSize,
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
    hints: registryHints(inputs.registry),
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

function describePack(result: PackResult, seconds: number): string {
  const ratio = result.uncompressedSize > 0 ? (result.size / result.uncompressedSize).toFixed(3) : '1'
  return (
    `Packed ${result.files} entries, ${result.uncompressedSize} bytes -> ${result.size} bytes ` +
    `(ratio ${ratio}) in ${seconds.toFixed(1)} s: layer ${result.digest}`
  )
}
