import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'

import type { Descriptor, LayoutPullSource, LayoutPushTarget } from '../../../src/oci/layout/index.js'

export const sha256 = (bytes: Buffer | string): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/**
 * A registry in memory with the Repository methods the layout code calls. Like a real registry it
 * refuses a blob whose bytes do not match the digest; `corruptBlob` plants bad content to serve.
 */
export class MemoryRegistry implements LayoutPushTarget, LayoutPullSource {
  readonly blobs = new Map<string, Buffer>()
  readonly manifests = new Map<string, { bytes: Buffer; mediaType: string }>()
  readonly tags = new Map<string, string>()
  readonly calls: string[] = []

  async blobExists(digest: string): Promise<boolean> {
    this.calls.push(`HEAD ${digest}`)
    return this.blobs.has(digest)
  }

  async pushBlob(desc: Descriptor, open: () => Readable, o?: { onProgress?: (bytes: number) => void }) {
    this.calls.push(`PUT blob ${desc.digest}`)
    const chunks: Buffer[] = []
    for await (const chunk of open()) {
      chunks.push(chunk as Buffer)
      o?.onProgress?.((chunk as Buffer).length)
    }
    const bytes = Buffer.concat(chunks)
    if (sha256(bytes) !== desc.digest) throw new Error(`DIGEST_INVALID ${desc.digest}`)
    this.blobs.set(desc.digest, bytes)
  }

  async putManifest(bytes: Buffer, mediaType: string, tagOrDigest: string): Promise<string> {
    this.calls.push(`PUT manifest ${tagOrDigest}`)
    const digest = sha256(bytes)
    if (tagOrDigest.startsWith('sha256:') && tagOrDigest !== digest)
      throw new Error('DIGEST_INVALID manifest')
    this.manifests.set(digest, { bytes: Buffer.from(bytes), mediaType })
    if (!tagOrDigest.startsWith('sha256:')) this.tags.set(tagOrDigest, digest)
    return digest
  }

  async getManifest(tagOrDigest: string) {
    this.calls.push(`GET manifest ${tagOrDigest}`)
    const digest = this.tags.get(tagOrDigest) ?? tagOrDigest
    const found = this.manifests.get(digest)
    if (!found) throw new Error(`MANIFEST_UNKNOWN ${tagOrDigest}`)
    return { bytes: found.bytes, mediaType: found.mediaType, digest }
  }

  async fetchBlob(desc: Descriptor, o?: { onProgress?: (bytes: number) => void }): Promise<Readable> {
    this.calls.push(`GET blob ${desc.digest}`)
    const bytes = this.blobs.get(desc.digest)
    if (!bytes) throw new Error(`BLOB_UNKNOWN ${desc.digest}`)
    o?.onProgress?.(bytes.length)
    return Readable.from([bytes])
  }

  corruptBlob(digest: string, bytes: Buffer): void {
    this.blobs.set(digest, bytes)
  }
}
