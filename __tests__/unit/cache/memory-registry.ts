import { sha256Digest, type Descriptor } from '../../../src/oci/descriptor.js'
import { RegistryError } from '../../../src/oci/errors.js'
import type { CacheRegistry } from '../../../src/cache/cache-registry.js'

interface Stored {
  bytes: Buffer
  mediaType: string
}

/**
 * Manifests in memory, answering like Distribution: 404 for unknown references, and an index
 * refused with 400 MANIFEST_BLOB_UNKNOWN when it lists a manifest the repository lacks.
 */
export class MemoryRegistry implements CacheRegistry {
  readonly byDigest = new Map<string, Stored>()
  readonly tags = new Map<string, string>()
  readonly requests: string[] = []

  async getManifest(ref: string) {
    this.requests.push(`GET ${ref}`)
    const digest = this.tags.get(ref) ?? ref
    const stored = this.byDigest.get(digest)
    if (!stored) throw notFound(ref)
    return { bytes: stored.bytes, mediaType: stored.mediaType, digest }
  }

  async headManifest(ref: string): Promise<Descriptor | undefined> {
    this.requests.push(`HEAD ${ref}`)
    const digest = this.tags.get(ref) ?? ref
    const stored = this.byDigest.get(digest)
    return stored ? { mediaType: stored.mediaType, digest, size: stored.bytes.length } : undefined
  }

  async putManifest(bytes: Buffer, mediaType: string, ref: string): Promise<string> {
    this.requests.push(`PUT ${ref}`)
    for (const child of childrenOf(bytes)) {
      if (!this.byDigest.has(child.digest)) {
        throw new RegistryError({
          method: 'PUT',
          url: `http://127.0.0.1/v2/x/manifests/${ref}`,
          status: 400,
          codes: [{ code: 'MANIFEST_BLOB_UNKNOWN', message: 'blob unknown to registry' }],
        })
      }
    }
    const digest = sha256Digest(bytes)
    this.byDigest.set(digest, { bytes, mediaType })
    if (!ref.startsWith('sha256:')) this.tags.set(ref, digest)
    return digest
  }

  delete(digest: string): void {
    this.byDigest.delete(digest)
  }
}

export function notFound(ref: string): RegistryError {
  return new RegistryError({
    method: 'GET',
    url: `http://127.0.0.1/v2/x/manifests/${ref}`,
    status: 404,
    codes: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
  })
}

function childrenOf(bytes: Buffer): { digest: string }[] {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { manifests?: { digest: string }[] }).manifests ?? []
  } catch {
    return []
  }
}
