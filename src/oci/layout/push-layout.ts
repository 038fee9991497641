import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'

import { sha256Digest } from '../descriptor.js'
import { silentLogger, type Logger } from '../logger.js'
import { isValidTag } from '../reference.js'
import { uploadIfMissing } from '../upload/produced-upload.js'
import { forEachLimited } from './for-each-limited.js'
import { LayoutError } from './layout-error.js'
import type { Layout } from './read-layout.js'
import type { LayoutPushTarget } from './registry-ports.js'
import type { SelectedManifest } from './select-manifests.js'
import { verifyLayout } from './verify-layout.js'

// Blob uploads at once: enough to hide per-request latency, few enough not to trip registry rate limits.
const UPLOAD_CONCURRENCY = 4

export interface PushLayoutOptions {
  /** Called once the layout is verified and the registry asked what it has: what is left to upload. */
  onStart?: (plan: {
    uploadBytes: number
    uploadBlobs: number
    skippedBlobs: number
    /** Bytes of every plain blob the roots reference, uploaded or not. */
    totalBytes: number
  }) => void
  /** Bytes uploaded since the last call. */
  onProgress?: (bytes: number) => void
  logger?: Logger
  concurrency?: number
}

export interface PushedRoot {
  /** The ref name the manifest had in index.json. */
  name: string | undefined
  digest: string
  mediaType: string
  /** Size of the manifest or index itself, as in a descriptor of it. */
  size: number
  /** The tags it was put under; empty when it was pushed by digest only. */
  tags: string[]
}

function tagsFor(layout: Layout, roots: readonly SelectedManifest[], tags: readonly string[]): string[][] {
  if (roots.length > 1 && tags.length > 0) {
    throw new Error(
      `${roots.length} manifests were selected; each is tagged with its own ref name, not with given tags`,
    )
  }
  return roots.map(({ name }) => {
    const chosen = tags.length > 0 ? [...tags] : name !== undefined ? [name] : []
    for (const tag of chosen) {
      if (!isValidTag(tag)) {
        throw new LayoutError(
          path.join(layout.dir, 'index.json'),
          `${JSON.stringify(tag)} is not a valid tag`,
        )
      }
    }
    return chosen
  })
}

/**
 * Publishes the selected manifests of a layout as they are: every referenced blob byte for byte
 * from its file (skipping those the registry has), then manifests and indexes children first by
 * their exact bytes, so the registry's digests are the layout's. One root gets `tags` (or its ref
 * name when none are given); several roots each get their own ref name. The whole layout is
 * verified before the first byte is sent.
 */
export async function pushLayout(
  layout: Layout,
  repo: LayoutPushTarget,
  roots: readonly SelectedManifest[],
  tags: readonly string[],
  o: PushLayoutOptions = {},
): Promise<PushedRoot[]> {
  const logger = o.logger ?? silentLogger
  const rootTags = tagsFor(layout, roots, tags)
  const blobs = await verifyLayout(layout, roots)
  const concurrency = o.concurrency ?? UPLOAD_CONCURRENCY

  const plain = blobs.filter((b) => !b.isManifest)
  const present = new Set<string>()
  await forEachLimited(plain, concurrency, async ({ descriptor }) => {
    if (await repo.blobExists(descriptor.digest)) present.add(descriptor.digest)
  })
  const missing = plain.filter((b) => !present.has(b.descriptor.digest))
  o.onStart?.({
    uploadBytes: missing.reduce((sum, b) => sum + b.descriptor.size, 0),
    uploadBlobs: missing.length,
    skippedBlobs: present.size,
    totalBytes: plain.reduce((sum, b) => sum + b.descriptor.size, 0),
  })

  // the plan's answers stand in for the registry's, so each blob is asked about once; those it
  // has are skipped (and logged) where every upload decides it
  const asked = {
    blobExists: async (digest: string) => present.has(digest),
    pushBlob: repo.pushBlob.bind(repo),
  }
  const onUpload = () => ({ add: (bytes: number) => o.onProgress?.(bytes), done: () => {} })
  await forEachLimited(plain, concurrency, async ({ descriptor, file }) => {
    await uploadIfMissing(asked, descriptor, () => createReadStream(file), { logger, onUpload })
  })

  const tagsByRoot = new Map<string, string[]>()
  roots.forEach((root, i) => {
    const known = tagsByRoot.get(root.descriptor.digest) ?? []
    tagsByRoot.set(root.descriptor.digest, [...known, ...(rootTags[i] ?? [])])
  })
  for (const { descriptor, file } of blobs.filter((b) => b.isManifest)) {
    // Read again rather than kept from verification, so memory holds one manifest at a time; checked
    // again because the file could have changed since.
    const bytes = await readFile(file)
    if (sha256Digest(bytes) !== descriptor.digest) {
      throw new LayoutError(file, `changed while being pushed: no longer matches ${descriptor.digest}`)
    }
    const references = tagsByRoot.get(descriptor.digest)
    for (const reference of references?.length ? references : [descriptor.digest]) {
      const digest = await repo.putManifest(bytes, descriptor.mediaType, reference)
      if (digest !== descriptor.digest) {
        throw new Error(
          `the registry stored ${reference} as ${digest}, not as the layout's ${descriptor.digest}`,
        )
      }
    }
  }

  return roots.map((root, i) => ({
    name: root.name,
    digest: root.descriptor.digest,
    mediaType: root.descriptor.mediaType,
    size: root.descriptor.size,
    tags: rootTags[i] ?? [],
  }))
}
