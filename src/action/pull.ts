import * as core from '@actions/core'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { extractToDirectory } from '../archive/extract.js'
import type { Compression } from '../archive/types.js'
import { Annotation } from '../oci/annotations.js'
import type { Descriptor } from '../oci/descriptor.js'
import { parseManifest } from '../oci/manifest.js'
import { isIndexMediaType, MediaType } from '../oci/media-types.js'
import { Repository } from '../oci/repository.js'
import type { Inputs } from './inputs.js'
import { actionsLogger, userAgent } from './logger.js'
import { networkOptions } from './network.js'
import { choosePlatform } from './platform.js'
import { startProgress } from './progress.js'

export interface PullResult {
  digest: string
  path: string
  files: number
  size: number
  seconds: number
}

/** Resolves the tag or digest, then downloads, verifies and extracts every layer into `inputs.path`. */
export async function pullDirectory(inputs: Inputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.tags[0] as string
  const { digest, layers } = await core.group('Resolve', () => resolveLayers(repo, reference))

  let files = 0
  let size = 0
  await core.group('Download and extract', async () => {
    for (const layer of layers) {
      const result = await pullLayer(repo, layer, inputs.path)
      files += result.files
      size += layer.size
    }
  })
  return { digest, path: inputs.path, files, size, seconds: (Date.now() - started) / 1000 }
}

export function openForPull(inputs: Inputs): Repository {
  return new Repository({
    registry: inputs.registry,
    repository: inputs.repository,
    credentials: inputs.credentials,
    actions: ['pull'],
    logger: actionsLogger,
    userAgent: userAgent(),
    ...networkOptions(inputs),
  })
}

/** The manifest's layers; an index is narrowed to the runner's platform (or its only entry). */
export async function resolveLayers(
  repo: Repository,
  reference: string,
): Promise<{ digest: string; layers: Descriptor[] }> {
  const top = await repo.getManifest(reference)
  let manifest = top
  if (isIndexMediaType(top.mediaType)) {
    const index = JSON.parse(top.bytes.toString('utf8')) as { manifests?: Descriptor[] }
    const chosen = choosePlatform(index.manifests ?? [])
    core.info(`${reference} is an index: using ${chosen.digest}`)
    manifest = await repo.getManifest(chosen.digest)
  }
  let layers: Descriptor[]
  try {
    layers = parseManifest(manifest.bytes).layers
  } catch (error) {
    throw new Error(`${reference} (${manifest.digest}) is not an image manifest we can extract`, {
      cause: error,
    })
  }
  if (layers.length === 0) throw new Error(`${reference} (${manifest.digest}) has no layers to extract`)
  core.info(`${reference} -> ${top.digest}: ${layers.length} layer(s)`)
  return { digest: top.digest, layers }
}

/**
 * One layer into `dest`. A tar layer is extracted (under ORAS's convention its entries sit below
 * `<title>/`, which is stripped so the contents land in `dest`, as download-artifact does); a layer
 * with a title but no unpack annotation, or not a tar at all, is one file saved under its title.
 */
async function pullLayer(repo: Repository, layer: Descriptor, dest: string): Promise<{ files: number }> {
  const title = layer.annotations?.[Annotation.Title]
  const unpack = layer.annotations?.[Annotation.OrasUnpack] === 'true'
  const compression = tarCompression(layer.mediaType)
  const progress = startProgress(`Downloading ${layer.digest.slice(0, 19)}`, layer.size)
  const source = await repo.fetchBlob(layer, { onProgress: (bytes) => progress.add(bytes) })

  if (compression && (unpack || !title)) {
    const result = await extractToDirectory(source, dest, {
      compression,
      stripPrefix: unpack ? title : undefined,
      expectedUncompressedDigest: layer.annotations?.[Annotation.OrasContentDigest],
    })
    progress.done()
    core.info(`Extracted ${result.files} entries (${result.uncompressedSize} bytes) into ${dest}`)
    return { files: result.files }
  }
  if (!title) {
    source.destroy()
    throw new Error(
      `layer ${layer.digest} (${layer.mediaType}) is neither a tar layer nor titled: cannot place it`,
    )
  }
  await saveFile(source, dest, title)
  progress.done()
  core.info(`Saved ${title} (${layer.size} bytes) into ${dest}`)
  return { files: 1 }
}

/** The compression of a tar layer's media type, or undefined when the layer is not a tar. */
export function tarCompression(mediaType: string): Compression | undefined {
  if (mediaType === MediaType.LayerTarGzip || mediaType === MediaType.DockerLayerTarGzip) return 'gzip'
  if (mediaType === MediaType.LayerTarZstd) return 'zstd'
  if (mediaType === MediaType.LayerTar) return 'none'
  return undefined
}

/** Writes a verified single-file layer next to dest first, then renames it into place. */
async function saveFile(source: NodeJS.ReadableStream, dest: string, title: string): Promise<void> {
  if (title !== path.basename(title) || title === '.' || title === '..') {
    throw new Error(`layer title '${title}' is not a plain file name: refusing to write it`)
  }
  const parent = path.dirname(dest)
  await mkdir(parent, { recursive: true })
  const partial = path.join(parent, `.${path.basename(dest)}.${title}.partial-${process.pid}`)
  try {
    await pipeline(source, createWriteStream(partial, { mode: 0o644 }))
    await mkdir(dest, { recursive: true })
    await rename(partial, path.join(dest, title))
  } finally {
    await rm(partial, { force: true })
  }
}
