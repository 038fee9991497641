import { Readable, Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { sha256Digest, type Descriptor } from '../../src/oci/descriptor.js'
import { RegistryError } from '../../src/oci/errors.js'
import { readManifest } from '../../src/oci/manifest.js'
import type { Send } from '../../src/oci/transport/send.js'
import { isIndexMediaType } from '../../src/oci/media-types.js'

interface Stored {
  bytes: Buffer
  mediaType: string
}

export interface MemoryRegistryOptions {
  /**
   * Every call takes up to this long, its reads at the start and its writes at the end: the
   * interleavings a real registry allows when jobs race. 0 (the default) answers at once.
   */
  maxLatencyMs?: number
}

/**
 * The one in-memory registry of the unit tests: the Repository methods the library rooms call
 * (blobs, manifests, tags), answering like Distribution. Unknown references are 404 RegistryErrors
 * (MANIFEST_UNKNOWN, BLOB_UNKNOWN), a blob whose bytes do not match its digest is refused
 * (DIGEST_INVALID), and an index naming a manifest the repository lacks is refused with
 * 400 MANIFEST_BLOB_UNKNOWN. `requests` records each call as "METHOD blob|manifest ref".
 */
export class MemoryRegistry {
  readonly blobs = new Map<string, Buffer>()
  readonly manifests = new Map<string, Stored>()
  readonly tags = new Map<string, string>()
  readonly requests: string[] = []
  indexWrites = 0
  // upload sessions by id: what was PATCHed so far
  private readonly sessions = new Map<string, Buffer>()
  private sessionCount = 0
  private readonly maxLatencyMs: number

  constructor(o: MemoryRegistryOptions = {}) {
    this.maxLatencyMs = o.maxLatencyMs ?? 0
  }

  async blobExists(digest: string): Promise<boolean> {
    this.requests.push(`HEAD blob ${digest}`)
    const found = this.blobs.has(digest)
    await this.pause()
    return found
  }

  async pushBlob(desc: Descriptor, open: () => Readable, o?: { onProgress?: (bytes: number) => void }) {
    this.requests.push(`PUT blob ${desc.digest}`)
    const chunks: Buffer[] = []
    for await (const chunk of open()) {
      chunks.push(chunk as Buffer)
      o?.onProgress?.((chunk as Buffer).length)
    }
    await this.pause()
    this.storeBlob(desc.digest, Buffer.concat(chunks))
    return 'uploaded' as const
  }

  /** The streamed upload of a blob being produced: its bytes are kept and checked at finish. */
  async startStreamedUpload() {
    const chunks: Buffer[] = []
    const body = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        chunks.push(chunk)
        callback()
      },
    })
    return {
      body,
      finish: async (desc: Pick<Descriptor, 'digest'>) => {
        this.requests.push(`PUT blob ${desc.digest}`)
        await this.pause()
        this.storeBlob(desc.digest, Buffer.concat(chunks))
      },
      abort: async () => {},
    }
  }

  async fetchBlob(desc: Descriptor, o?: { onProgress?: (bytes: number) => void }): Promise<Readable> {
    this.requests.push(`GET blob ${desc.digest}`)
    const bytes = this.blobs.get(desc.digest)
    await this.pause()
    if (!bytes) throw refusal('GET', `blobs/${desc.digest}`, 404, 'BLOB_UNKNOWN', 'blob unknown to registry')
    o?.onProgress?.(bytes.length)
    return Readable.from([bytes])
  }

  async headManifest(ref: string): Promise<Descriptor | undefined> {
    this.requests.push(`HEAD manifest ${ref}`)
    const digest = this.tags.get(ref) ?? ref
    const stored = this.manifests.get(digest)
    await this.pause()
    return stored ? { mediaType: stored.mediaType, digest, size: stored.bytes.length } : undefined
  }

  async getManifest(ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    this.requests.push(`GET manifest ${ref}`)
    const digest = this.tags.get(ref) ?? ref
    const stored = this.manifests.get(digest)
    await this.pause()
    if (!stored) throw refusal('GET', `manifests/${ref}`, 404, 'MANIFEST_UNKNOWN', 'manifest unknown')
    return { bytes: stored.bytes, mediaType: stored.mediaType, digest }
  }

  async putManifest(bytes: Buffer, mediaType: string, ref: string): Promise<string> {
    this.requests.push(`PUT manifest ${ref}`)
    await this.pause()
    const digest = sha256Digest(bytes)
    if (ref.startsWith('sha256:') && ref !== digest) {
      throw refusal('PUT', `manifests/${ref}`, 400, 'DIGEST_INVALID', 'provided digest did not match')
    }
    if (isIndexMediaType(mediaType)) {
      // (what is not an index it can read is stored as it is, so a test can plant a broken one)
      for (const child of childrenOf(bytes, mediaType)) {
        if (!this.manifests.has(child.digest)) {
          throw refusal('PUT', `manifests/${ref}`, 400, 'MANIFEST_BLOB_UNKNOWN', 'blob unknown to registry')
        }
      }
      this.indexWrites++
    }
    this.manifests.set(digest, { bytes: Buffer.from(bytes), mediaType })
    if (!ref.startsWith('sha256:')) this.tags.set(ref, digest)
    return digest
  }

  async listTags(): Promise<string[]> {
    this.requests.push('GET tags')
    const tags = [...this.tags.keys()]
    await this.pause()
    return tags
  }

  /**
   * The same registry over HTTP, for tests that run the real transport on top: Distribution's blob,
   * upload-session and manifest endpoints as the bottom `Send` of a Repository (`exchange`).
   */
  readonly exchange: Send = async (req) => {
    const url = new URL(req.url)
    const made = req.body?.()
    const body = !made ? Buffer.alloc(0) : Buffer.isBuffer(made) ? made : Buffer.concat(await made.toArray())
    const blob = url.pathname.match(/\/blobs\/(sha256:[a-f0-9]{64})$/)?.[1]
    const manifest = url.pathname.match(/\/manifests\/([^/]+)$/)?.[1]
    const session = url.pathname.match(/\/blobs\/uploads\/([a-z0-9]+)$/)?.[1]
    const error = (status: number, code: string) => answer(status, {}, JSON.stringify({ errors: [{ code }] }))
    if ((req.method === 'HEAD' || req.method === 'GET') && blob) {
      this.requests.push(`${req.method} blob ${blob}`)
      const bytes = this.blobs.get(blob)
      if (!bytes) return error(404, 'BLOB_UNKNOWN')
      return new Response(req.method === 'HEAD' ? null : new Uint8Array(bytes), {
        headers: { 'content-length': String(bytes.length), 'docker-content-digest': blob },
      })
    }
    if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
      const id = `s${++this.sessionCount}`
      this.sessions.set(id, Buffer.alloc(0))
      return answer(202, { location: `${url.pathname}${id}` })
    }
    if (session && this.sessions.has(session)) {
      const sofar = Buffer.concat([this.sessions.get(session) as Buffer, body])
      if (req.method === 'PATCH') {
        this.sessions.set(session, sofar)
        return answer(202, { location: url.pathname })
      }
      if (req.method === 'DELETE') {
        this.sessions.delete(session)
        return answer(204)
      }
      if (req.method === 'PUT') {
        const digest = url.searchParams.get('digest') ?? ''
        this.requests.push(`PUT blob ${digest}`)
        this.sessions.delete(session)
        if (sha256Digest(sofar) !== digest) return error(400, 'DIGEST_INVALID')
        this.blobs.set(digest, sofar)
        return answer(201, { 'docker-content-digest': digest })
      }
    }
    if ((req.method === 'HEAD' || req.method === 'GET') && manifest) {
      this.requests.push(`${req.method} manifest ${manifest}`)
      const digest = this.tags.get(manifest) ?? manifest
      const stored = this.manifests.get(digest)
      if (!stored) return error(404, 'MANIFEST_UNKNOWN')
      return new Response(req.method === 'HEAD' ? null : new Uint8Array(stored.bytes), {
        headers: {
          'content-type': stored.mediaType,
          'docker-content-digest': digest,
          'content-length': String(stored.bytes.length),
        },
      })
    }
    if (req.method === 'PUT' && manifest) {
      try {
        const digest = await this.putManifest(body, req.headers['content-type'] ?? '', manifest)
        return answer(201, { 'docker-content-digest': digest })
      } catch (refused) {
        if (!(refused instanceof RegistryError)) throw refused
        return error(refused.status, refused.codes[0]?.code ?? 'UNKNOWN')
      }
    }
    return error(405, 'UNSUPPORTED')
  }

  /** Deletes a manifest by hand, as someone at the registry's UI would: its tags stay dangling. */
  delete(digest: string): void {
    this.manifests.delete(digest)
  }

  /** Plants other bytes under a digest, to be served as they are. */
  corruptBlob(digest: string, bytes: Buffer): void {
    this.blobs.set(digest, bytes)
  }

  private storeBlob(digest: string, bytes: Buffer): void {
    if (sha256Digest(bytes) !== digest) {
      throw refusal(
        'PUT',
        `blobs/uploads/?digest=${digest}`,
        400,
        'DIGEST_INVALID',
        'provided digest did not match',
      )
    }
    this.blobs.set(digest, bytes)
  }

  private pause(): Promise<void> {
    return this.maxLatencyMs > 0 ? sleep(Math.random() * this.maxLatencyMs) : Promise.resolve()
  }
}

function refusal(
  method: string,
  where: string,
  status: number,
  code: string,
  message: string,
): RegistryError {
  return new RegistryError({
    method,
    url: `http://127.0.0.1/v2/x/${where}`,
    status,
    codes: [{ code, message }],
  })
}

function childrenOf(bytes: Buffer, mediaType: string): Descriptor[] {
  try {
    return readManifest(bytes, mediaType).manifests
  } catch {
    return []
  }
}

function answer(status: number, headers: Record<string, string> = {}, body?: string): Response {
  return new Response(status === 204 ? null : (body ?? ''), { status, headers })
}
