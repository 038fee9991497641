import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'

import { sha256Digest, type Descriptor } from '../descriptor.js'
import { silentLogger, type Logger } from '../logger.js'
import { MediaType } from '../media-types.js'
import { forEachLimited } from './for-each-limited.js'
import { LayoutError } from './layout-error.js'
import { writeBlobVerified, writeFileAtomic } from './layout-writer.js'
import {
  blobPath,
  fileSizeOf,
  isSha256Digest,
  layoutManifest,
  IMAGE_LAYOUT_VERSION,
  MAX_INDEX_BYTES,
  parseIndex,
  readLayoutMarker,
  readSmallFile,
  REF_NAME_ANNOTATION,
  type LayoutIndex,
} from './read-layout.js'
import { digestFile } from './verify-layout.js'
import type { LayoutPullSource } from './registry-ports.js'

// Downloads at once: the same reasoning as uploads, latency hidden without hammering the registry.
const DOWNLOAD_CONCURRENCY = 4

export interface PullToLayoutOptions {
  /** The ref name to record in index.json; defaults to the tag pulled (none for a digest). */
  refName?: string
  /** Called once the manifests are in and the blobs on disk checked: what is left to download. */
  onStart?: (plan: {
    downloadBytes: number
    downloadBlobs: number
    reusedBlobs: number
    totalBytes: number
  }) => void
  /** Bytes downloaded since the last call. */
  onProgress?: (bytes: number) => void
  logger?: Logger
  concurrency?: number
}

export interface PulledLayout {
  digest: string
  mediaType: string
  size: number
  refName: string | undefined
  /** Blobs (manifests included) the pulled graph holds, and how many of them were already on disk. */
  blobs: number
  reusedBlobs: number
  downloadedBytes: number
}

async function existingIndex(dir: string): Promise<LayoutIndex | undefined> {
  const file = path.join(dir, 'index.json')
  const hasIndex = (await fileSizeOf(file)) !== undefined
  if ((await fileSizeOf(path.join(dir, 'oci-layout'))) === undefined) {
    // An index.json with no oci-layout beside it is someone else's file: not ours to overwrite.
    if (hasIndex) throw new LayoutError(file, 'exists but oci-layout does not: not an OCI image layout')
    return undefined
  }
  await readLayoutMarker(dir)
  return hasIndex ? parseIndex(await readSmallFile(file, MAX_INDEX_BYTES), file) : undefined
}

async function hasBlob(file: string, descriptor: Descriptor): Promise<boolean> {
  if ((await fileSizeOf(file)) !== descriptor.size) return false
  return (await digestFile(file)).digest === descriptor.digest
}

/**
 * Pulls `tagOrDigest` with everything it references (nested indexes included) into an OCI image
 * layout at `dir`, creating it or adding to one already there. Blobs land verified (temp file,
 * renamed once the digest matched); blobs already present and intact are kept; index.json is written
 * last and atomically, replacing the entry of the same ref name, so the layout is whole at every moment.
 */
export async function pullToLayout(
  repo: LayoutPullSource,
  tagOrDigest: string,
  dir: string,
  o: PullToLayoutOptions = {},
): Promise<PulledLayout> {
  const logger = o.logger ?? silentLogger
  const refName = o.refName ?? (isSha256Digest(tagOrDigest) ? undefined : tagOrDigest)
  // A broken layout already at dir is reported before anything is downloaded.
  const index = (await existingIndex(dir)) ?? {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [],
  }
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true })

  const root = await repo.getManifest(tagOrDigest)
  const rootDescriptor: Descriptor = {
    mediaType: root.mediaType,
    digest: root.digest,
    size: root.bytes.length,
  }
  if (isSha256Digest(tagOrDigest) && root.digest !== tagOrDigest) {
    throw new Error(`the registry answered ${tagOrDigest} with a manifest of digest ${root.digest}`)
  }

  const seen = new Set<string>()
  const plain: { descriptor: Descriptor; file: string }[] = []
  let reusedBlobs = 0

  const storeManifest = async (descriptor: Descriptor, bytes: Buffer): Promise<void> => {
    const file = blobPath(dir, descriptor.digest, `manifest ${descriptor.digest}`)
    const actual = sha256Digest(bytes)
    if (actual !== descriptor.digest || bytes.length !== descriptor.size) {
      throw new LayoutError(
        file,
        `manifest from the registry is ${actual} (${bytes.length} bytes), expected ${descriptor.digest}`,
      )
    }
    const children = layoutManifest(bytes, descriptor.mediaType, file)
    for (const blob of children.blobs) {
      if (seen.has(blob.digest)) continue
      seen.add(blob.digest)
      plain.push({ descriptor: blob, file: blobPath(dir, blob.digest, file) })
    }
    for (const child of children.manifests) {
      if (seen.has(child.digest)) continue
      seen.add(child.digest)
      const fetched = await repo.getManifest(child.digest)
      await storeManifest(child, fetched.bytes)
    }
    // The subject is not pulled: it is another artifact (the image an SBOM describes), and layout
    // readers such as skopeo do not follow it.
    if (await hasBlob(file, descriptor)) reusedBlobs++
    else await writeBlobVerified(file, descriptor, Readable.from([bytes]))
  }
  seen.add(root.digest)
  await storeManifest(rootDescriptor, root.bytes)

  const concurrency = o.concurrency ?? DOWNLOAD_CONCURRENCY
  const onDisk = new Set<string>()
  await forEachLimited(plain, concurrency, async ({ descriptor, file }) => {
    if (await hasBlob(file, descriptor)) onDisk.add(descriptor.digest)
  })
  const missing = plain.filter((b) => !onDisk.has(b.descriptor.digest))
  reusedBlobs += onDisk.size
  if (onDisk.size > 0) logger.debug(`${onDisk.size} blob(s) already in ${dir}, kept`)
  const downloadedBytes = missing.reduce((sum, b) => sum + b.descriptor.size, 0)
  o.onStart?.({
    downloadBytes: downloadedBytes,
    downloadBlobs: missing.length,
    reusedBlobs: onDisk.size,
    totalBytes: plain.reduce((sum, b) => sum + b.descriptor.size, 0),
  })
  await forEachLimited(missing, concurrency, async ({ descriptor, file }) => {
    const source = await repo.fetchBlob(descriptor, { onProgress: o.onProgress })
    await writeBlobVerified(file, descriptor, source)
  })

  const entry: Descriptor = { ...rootDescriptor }
  if (refName !== undefined) entry.annotations = { [REF_NAME_ANNOTATION]: refName }
  const kept = index.manifests.filter((m) =>
    refName !== undefined
      ? m.annotations?.[REF_NAME_ANNOTATION] !== refName
      : !(m.digest === root.digest && m.annotations?.[REF_NAME_ANNOTATION] === undefined),
  )
  const updated: LayoutIndex = { ...index, manifests: [...kept, entry] }
  await writeFileAtomic(
    path.join(dir, 'oci-layout'),
    JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }),
  )
  await writeFileAtomic(path.join(dir, 'index.json'), JSON.stringify(updated))

  return {
    digest: root.digest,
    mediaType: root.mediaType,
    size: root.bytes.length,
    refName,
    blobs: seen.size,
    reusedBlobs,
    downloadedBytes,
  }
}
