import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import path from 'node:path'

import { sha256Digest, type Descriptor } from '../descriptor.js'
// The registry client's cap: a larger manifest could never be pushed, and it bounds memory here too.
import { MAX_MANIFEST_BYTES } from '../manifest-requests.js'
import { forEachLimited } from './for-each-limited.js'
import { LayoutError } from './layout-error.js'
import { blobPath, fileSizeOf, layoutManifest, readSmallFile, type Layout } from './read-layout.js'

/** One blob of the layout, checked against its descriptor. */
export interface VerifiedBlob {
  descriptor: Descriptor
  file: string
  /** Manifests and indexes go to the registry's manifest endpoint, the rest to its blob endpoint. */
  isManifest: boolean
}

// Hashing is disk-bound; a few files at once keep the disk busy without thrashing it.
const HASH_CONCURRENCY = 4

function checkSize(file: string, descriptor: Descriptor, actual: number): void {
  if (actual !== descriptor.size) {
    throw new LayoutError(
      file,
      `is ${actual} bytes, but ${descriptor.digest} is described as ${descriptor.size} bytes`,
    )
  }
}

function checkDigest(file: string, descriptor: Descriptor, actual: string): void {
  if (actual !== descriptor.digest) {
    throw new LayoutError(
      file,
      `content does not match its digest: expected ${descriptor.digest}, got ${actual}`,
    )
  }
}

/**
 * Walks every blob the roots reference (index -> manifests -> config and layers, subjects found in
 * the layout), checks that each file exists with the size and sha256 its descriptors claim, and
 * returns them children first, the order a registry needs them pushed in. Nothing is uploaded, so
 * a broken layout is refused before the registry sees any of it.
 */
export async function verifyLayout(
  layout: Layout,
  roots: readonly { descriptor: Descriptor }[],
): Promise<VerifiedBlob[]> {
  const ordered: VerifiedBlob[] = []
  const seen = new Map<string, Descriptor>()
  const indexFile = path.join(layout.dir, 'index.json')

  // Manifests are read and checked during the walk because their children are only known once
  // parsed; plain blobs are only collected here and hashed afterwards, several at a time.
  const visit = async (
    descriptor: Descriptor,
    referencedFrom: string,
    isManifest: boolean,
  ): Promise<void> => {
    const earlier = seen.get(descriptor.digest)
    if (earlier) {
      if (earlier.size !== descriptor.size) {
        throw new LayoutError(
          referencedFrom,
          `describes ${descriptor.digest} as ${descriptor.size} bytes, elsewhere it is ${earlier.size}`,
        )
      }
      return
    }
    seen.set(descriptor.digest, descriptor)
    const file = blobPath(layout.dir, descriptor.digest, referencedFrom)
    if (!isManifest) {
      ordered.push({ descriptor, file, isManifest })
      return
    }
    if (descriptor.size > MAX_MANIFEST_BYTES) {
      throw new LayoutError(
        file,
        `manifest of ${descriptor.size} bytes is above the ${MAX_MANIFEST_BYTES} allowed`,
      )
    }
    const bytes = await readSmallFile(file, MAX_MANIFEST_BYTES)
    checkSize(file, descriptor, bytes.length)
    checkDigest(file, descriptor, sha256Digest(bytes))
    const children = layoutManifest(bytes, descriptor.mediaType, file)
    for (const blob of children.blobs) await visit(blob, file, false)
    for (const manifest of children.manifests) await visit(manifest, file, true)
    // A subject may well live only in the registry (an SBOM pushed next to an image published
    // earlier); when the layout holds it, it is pushed first, as the registry prefers.
    if (children.subject) {
      const subjectFile = blobPath(layout.dir, children.subject.digest, file)
      if ((await fileSizeOf(subjectFile)) !== undefined) await visit(children.subject, file, true)
    }
    ordered.push({ descriptor, file, isManifest })
  }

  for (const root of roots) await visit(root.descriptor, indexFile, true)

  const plain = ordered.filter((b) => !b.isManifest)
  await forEachLimited(plain, HASH_CONCURRENCY, async ({ descriptor, file }) => {
    const size = await fileSizeOf(file)
    if (size === undefined) throw new LayoutError(file, `is missing (blob ${descriptor.digest})`)
    checkSize(file, descriptor, size)
    checkDigest(file, descriptor, (await digestFile(file)).digest)
  })
  return ordered
}

/** sha256 and length of a file, streamed so a multi-gigabyte layer costs one read buffer of memory. */
export async function digestFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer
    hash.update(bytes)
    size += bytes.length
  }
  return { digest: `sha256:${hash.digest('hex')}`, size }
}
