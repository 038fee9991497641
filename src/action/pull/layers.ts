import * as core from '@actions/core'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { extractToDirectory } from '../../archive/extract.js'
import { stageAndCommit, stagePartsAndCommit } from '../../archive/merge.js'
import { makeStagingDirectory, releaseStaging, sweepStaleStaging } from '../../archive/staging.js'
import type { Compression } from '../../archive/types.js'
import { Annotation } from '../../oci/annotations.js'
import type { Descriptor, Platform } from '../../oci/descriptor.js'
import { parseManifest, readManifest } from '../../oci/manifest.js'
import { isIndexMediaType, MediaType } from '../../oci/media-types.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import { formatPlatform } from '../../oci/platform.js'
import { manifestFacts } from '../../oci/platform-publish.js'
import type { Repository } from '../../oci/repository.js'
import { fileModeOf, safeFileTitle } from '../layers/file-layers.js'
import { choosePlatform, PLATFORM_ANNOTATION, runnerPlatform } from '../layers/platform.js'
import { isSplitTree } from '../layers/tree-parts.js'
import { startProgress } from '../runner/log.js'

// What every pull does with one artifact, whether the step pulls one or several (many.ts): resolve
// a reference to a manifest's layers, and download, verify and extract those layers into a folder.

/**
 * A manifest's layers into `dest`, atomically: one layer keeps the single-directory rule, the
 * parts of a split tree are merged in order, several other layers land under their titles. Returns
 * the number of files written.
 */
export async function pullLayers(repo: Repository, layers: Descriptor[], dest: string): Promise<number> {
  if (layers.length === 1) {
    return (await pullLayer(repo, layers[0] as Descriptor, dest, 'contents')).files
  }
  // the parts of one tree: each extracted at once into a folder of its own, then merged in order
  if (isSplitTree(layers)) {
    return stagePartsAndCommit(dest, layers.length, async (folders) => {
      let count = 0
      await forEachLimited(layers, PULL_CONCURRENCY, async (layer, i) => {
        count += (await pullLayer(repo, layer, folders[i] as string, 'contents')).files
      })
      return count
    })
  }
  const places = placesOf(layers)
  return stageAndCommit(dest, async (staging) => {
    let count = 0
    // layers extracted into the same folder go in order: a later one overrides an earlier one
    const limit = places.includes('contents') ? 1 : PULL_CONCURRENCY
    await forEachLimited(layers, limit, async (layer, i) => {
      count += (await pullLayer(repo, layer, staging, places[i] as Place)).files
    })
    return count
  })
}

// Layers downloaded at once in a multi-layer pull: a release's few files go up in parallel,
// without opening a connection per file of a large set.
const PULL_CONCURRENCY = 4

/** Where a layer lands: its contents in the destination, or under its title. */
type Place = 'contents' | 'titled'

// Several layers: a directory layer ORAS unpacks goes under its title, as `oras pull` puts it, a
// plain tar (no title) is extracted as it is, a file under its title. Two layers that would land
// on the same name (on this file system's rules) are refused before anything is downloaded.
function placesOf(layers: Descriptor[]): Place[] {
  const seen = new Map<string, string>()
  return layers.map((layer) => {
    const title = layer.annotations?.[Annotation.Title]
    if (title === undefined) return 'contents'
    const name = safeFileTitle(title)
    const folded = foldName(name)
    const earlier = seen.get(folded)
    if (earlier !== undefined) {
      throw new Error(
        `layers '${earlier}' and '${name}' would both be written as '${name}': refusing to pull`,
      )
    }
    seen.set(folded, name)
    return 'titled'
  })
}

/** Names as a case-insensitive file system (macOS, Windows) compares them. */
function foldName(name: string): string {
  return caseInsensitiveFileSystem() ? name.normalize('NFD').toLowerCase() : name
}

function caseInsensitiveFileSystem(): boolean {
  return process.platform === 'darwin' || process.platform === 'win32'
}

/**
 * The manifest's layers; an index is narrowed to the named platform, else to the runner's (or its
 * only entry). A plain manifest that says it is for another platform than the named one is refused.
 */
export async function resolveLayers(
  repo: Repository,
  reference: string,
  platform?: Platform,
): Promise<{ digest: string; layers: Descriptor[]; manifest: PulledManifest }> {
  const top = await repo.getManifest(reference)
  let manifest = top
  let chosenPlatform: Platform | undefined
  if (isIndexMediaType(top.mediaType)) {
    const chosen = choosePlatform(indexEntries(top.bytes, reference), platform, runnerPlatform(), reference)
    const named = chosen.platform ? ` (${formatPlatform(chosen.platform)})` : ''
    core.info(`${reference} is an index: using ${chosen.digest}${named}`)
    manifest = await repo.getManifest(chosen.digest)
    chosenPlatform = chosen.platform
  } else if (platform) {
    const own = manifestFacts(top.bytes, PLATFORM_ANNOTATION).platform
    if (own && formatPlatform(own) !== formatPlatform(platform)) {
      throw new Error(`${reference} is the ${formatPlatform(own)} artifact, not ${formatPlatform(platform)}`)
    }
  }
  const layers = extractableLayers(manifest, reference)
  core.info(`${reference} -> ${top.digest}: ${layers.length} layer(s)`)
  return { digest: top.digest, layers, manifest: { digest: manifest.digest, platform: chosenPlatform } }
}

/** What a pull says it took: the manifest whose layers landed, and its platform when an index named one. */
export interface PulledManifest {
  digest: string
  platform?: Platform
}

/** An index's entries (its manifests array). */
export function indexEntries(bytes: Buffer, reference: string): Descriptor[] {
  try {
    return readManifest(bytes).manifests
  } catch (error) {
    throw new Error(`${reference} is not an index we can read`, { cause: error })
  }
}

/** An image manifest's layers, refusing what cannot be extracted (an index, no layers). */
export function extractableLayers(
  manifest: { bytes: Buffer; digest: string },
  reference: string,
): Descriptor[] {
  let layers: Descriptor[]
  try {
    layers = parseManifest(manifest.bytes).layers
  } catch (error) {
    throw new Error(`${reference} (${manifest.digest}) is not an image manifest we can extract`, {
      cause: error,
    })
  }
  if (layers.length === 0) throw new Error(`${reference} (${manifest.digest}) has no layers to extract`)
  return layers
}

/**
 * One layer into `dest`. A tar layer is extracted (under ORAS's convention its entries sit below
 * `<title>/`, which is stripped: with `contents` they land in `dest`, as download-artifact does,
 * with `titled` in `dest/<title>`, as `oras pull` does); a layer with a title but no unpack
 * annotation, or not a tar at all, is one file saved under its title, with the mode our push
 * recorded.
 */
async function pullLayer(
  repo: Repository,
  layer: Descriptor,
  dest: string,
  place: Place,
): Promise<{ files: number }> {
  const title = layer.annotations?.[Annotation.Title]
  const unpack = layer.annotations?.[Annotation.OrasUnpack] === 'true'
  const compression = tarCompression(layer.mediaType)
  if (!(compression && (unpack || !title)) && !title) {
    throw new Error(
      `layer ${layer.digest} (${layer.mediaType}) is neither a tar layer nor titled: cannot place it`,
    )
  }
  const progress = startProgress(`Downloading ${layer.digest.slice(0, 19)}`, layer.size)
  const source = await repo.fetchBlob(layer, { onProgress: (bytes) => progress.add(bytes) })

  if (compression && (unpack || !title)) {
    const into = title && place === 'titled' ? path.join(dest, safeFileTitle(title)) : dest
    const result = await extractToDirectory(source, into, {
      compression,
      stripPrefix: unpack ? title : undefined,
      expectedUncompressedDigest: layer.annotations?.[Annotation.OrasContentDigest],
    })
    progress.done()
    core.info(`Extracted ${result.files} entries (${result.uncompressedSize} bytes) into ${into}`)
    return { files: result.files }
  }
  await saveFile(source, dest, safeFileTitle(title as string), fileModeOf(layer))
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

/**
 * Writes a verified single-file layer into a staging folder next to dest first, then renames it
 * into place. The mode is our push's record of the exec bit (Windows has none to set).
 */
async function saveFile(
  source: NodeJS.ReadableStream,
  dest: string,
  title: string,
  mode: number,
): Promise<void> {
  const target = path.resolve(dest)
  await mkdir(path.dirname(target), { recursive: true })
  sweepStaleStaging(target)
  const staging = makeStagingDirectory(target)
  try {
    // created with the recorded mode, less the umask, as tar extraction creates files
    await pipeline(source, createWriteStream(path.join(staging, title), { mode }))
    await mkdir(dest, { recursive: true })
    await rename(path.join(staging, title), path.join(dest, title))
  } finally {
    await rm(staging, { recursive: true, force: true })
    releaseStaging(staging)
  }
}
