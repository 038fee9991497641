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
import { pullToLayout } from '../../oci/layout/index.js'
import { parseManifest, readManifest } from '../../oci/manifest.js'
import { isIndexMediaType, MediaType } from '../../oci/media-types.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import { formatPlatform } from '../../oci/platform.js'
import { manifestFacts } from '../../oci/platform-publish.js'
import type { Repository } from '../../oci/repository.js'
import { isWithin } from '../inputs/path-inputs.js'
import { getInputs } from '../inputs/readers.js'
import { fileModeOf, safeFileTitle } from '../layers/file-layers.js'
import { choosePlatform, PLATFORM_ANNOTATION, runnerPlatform } from '../layers/platform.js'
import { isSplitTree } from '../layers/tree-parts.js'
import {
  actionsLogger,
  formatBytes,
  formatRate,
  startProgress,
  summaryTable,
  writeSummary,
} from '../runner/log.js'
import { openForPull } from '../runner/registry.js'
import { parsePullInputs, type PullInputs } from './inputs.js'

export interface PullResult {
  digest: string
  path: string
  files: number
  size: number
  seconds: number
}

/** mode: pull. Into a directory, or with `format: oci-layout` into an OCI image layout. */
export async function runPull(): Promise<void> {
  const inputs = getInputs(parsePullInputs)
  const reference = `${inputs.registry}/${inputs.repository}${inputs.reference.startsWith('sha256:') ? '@' : ':'}${inputs.reference}`
  const result = inputs.format === 'oci-layout' ? await pullOciLayout(inputs) : await pullDirectory(inputs)
  core.setOutput('digest', result.digest)
  core.setOutput('path', result.path)
  core.info(`Pulled ${reference} (${result.digest}) into ${result.path}`)
  await writeSummary(pullSummary(result, reference))
}

export function pullSummary(result: PullResult, reference: string): string {
  const rows: [string, string][] = [
    ['Reference', `\`${reference}\``],
    ['Digest', `\`${result.digest}\``],
    ['Path', `\`${result.path}\``],
    ['Files', String(result.files)],
    ['Downloaded', formatBytes(result.size)],
    ['Time', `${result.seconds.toFixed(1)} s (${formatRate(result.size, result.seconds)})`],
  ]
  return `## Pulled ${reference}\n\n${summaryTable(rows)}`
}

/** `format: oci-layout` on pull: write (or add to) an OCI image layout at `path`, blobs verified. */
export async function pullOciLayout(inputs: PullInputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.reference
  const progress = startProgress(`Downloading ${reference}`)
  const pulled = await core.group('Download into an OCI layout', () =>
    pullToLayout(repo, reference, inputs.path, {
      logger: actionsLogger,
      onProgress: (bytes) => progress.add(bytes),
    }),
  )
  progress.done()
  core.info(
    `Wrote ${pulled.digest} into the OCI layout ${inputs.path}` +
      (pulled.refName ? ` as ${pulled.refName}` : '') +
      ` (${pulled.blobs} blobs, ${pulled.reusedBlobs} already there)`,
  )
  return {
    digest: pulled.digest,
    path: inputs.path,
    files: pulled.blobs,
    size: pulled.downloadedBytes,
    seconds: (Date.now() - started) / 1000,
  }
}

/**
 * Resolves the tag or digest, then downloads, verifies and extracts every layer into `inputs.path`.
 * One layer keeps the single-directory rule (a directory's contents land in `path`, a file lands
 * as `path/<title>`); several land as ORAS lays them out, each under its title, and all of them
 * are staged next to `path` first, so a pull that fails at any layer leaves `path` as it was.
 */
export async function pullDirectory(inputs: PullInputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.reference
  const { digest, layers } = await core.group('Resolve', () =>
    resolveLayers(repo, reference, inputs.platform),
  )
  logOutsideWorkspace(inputs.path)

  let files = 0
  const size = layers.reduce((sum, layer) => sum + layer.size, 0)
  await core.group('Download and extract', async () => {
    if (layers.length === 1) {
      files = (await pullLayer(repo, layers[0] as Descriptor, inputs.path, 'contents')).files
      return
    }
    // the parts of one tree: each extracted at once into a folder of its own, then merged in order
    if (isSplitTree(layers)) {
      files = await stagePartsAndCommit(inputs.path, layers.length, async (folders) => {
        let count = 0
        await forEachLimited(layers, PULL_CONCURRENCY, async (layer, i) => {
          count += (await pullLayer(repo, layer, folders[i] as string, 'contents')).files
        })
        return count
      })
      return
    }
    const places = placesOf(layers)
    files = await stageAndCommit(inputs.path, async (staging) => {
      let count = 0
      // layers extracted into the same folder go in order: a later one overrides an earlier one
      const limit = places.includes('contents') ? 1 : PULL_CONCURRENCY
      await forEachLimited(layers, limit, async (layer, i) => {
        count += (await pullLayer(repo, layer, staging, places[i] as Place)).files
      })
      return count
    })
  })
  return { digest, path: inputs.path, files, size, seconds: (Date.now() - started) / 1000 }
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

const loggedOutside = new Set<string>()

function logOutsideWorkspace(dest: string): void {
  const workspace = process.env.GITHUB_WORKSPACE
  if (!workspace || isWithin(dest, workspace) || loggedOutside.has(dest)) return
  loggedOutside.add(dest)
  core.info(`path is outside the workspace: pulling into ${dest}`)
}

/**
 * The manifest's layers; an index is narrowed to the named platform, else to the runner's (or its
 * only entry). A plain manifest that says it is for another platform than the named one is refused.
 */
export async function resolveLayers(
  repo: Repository,
  reference: string,
  platform?: Platform,
): Promise<{ digest: string; layers: Descriptor[] }> {
  const top = await repo.getManifest(reference)
  let manifest = top
  if (isIndexMediaType(top.mediaType)) {
    const entries = readManifest(top.bytes, top.mediaType).manifests
    const chosen = choosePlatform(entries, platform, runnerPlatform(), reference)
    const named = chosen.platform ? ` (${formatPlatform(chosen.platform)})` : ''
    core.info(`${reference} is an index: using ${chosen.digest}${named}`)
    manifest = await repo.getManifest(chosen.digest)
  } else if (platform) {
    const own = manifestFacts(top.bytes, PLATFORM_ANNOTATION).platform
    if (own && formatPlatform(own) !== formatPlatform(platform)) {
      throw new Error(`${reference} is the ${formatPlatform(own)} artifact, not ${formatPlatform(platform)}`)
    }
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
