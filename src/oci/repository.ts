import type { Readable } from 'node:stream'
import { verifiedBlobStream } from './blob-reader.js'
import type { Descriptor } from './descriptor.js'
import { checkResponse, type RegistryHints } from './errors.js'
import type { Logger } from './logger.js'
import { silentLogger } from './logger.js'
import { deleteManifest, getManifest, headManifest, putManifest } from './manifest-requests.js'
import { isValidDigest, registryBaseUrl } from './reference.js'
import { discardBody } from './response-body.js'
import { listTags } from './tag-list.js'
import type { Credentials } from './transport/auth.js'
import { createTransport } from './transport/client.js'
import type { RetryOptions, RetryPolicy } from './transport/retry.js'
import { retryPolicy } from './transport/retry.js'
import type { HttpOptions, Send } from './transport/send.js'
import { uploadBlob } from './upload/blob-upload.js'
import { initiateUpload } from './upload/session.js'
import {
  startStreamedUpload,
  type StreamedUpload,
  type StreamedUploadOptions,
} from './upload/stream-upload.js'

export type { Credentials } from './transport/auth.js'
export type { RetryOptions } from './transport/retry.js'
export type { StreamedUpload, StreamedUploadOptions } from './upload/stream-upload.js'
export type { HttpOptions, Timeouts } from './transport/send.js'

export interface RepositoryOptions {
  registry: string
  repository: string
  credentials?: Credentials
  // what the operation will do, so that one token exchange covers all its requests
  actions: ('pull' | 'push' | 'delete')[]
  logger?: Logger
  retry?: RetryOptions
  // proxy and timeouts of the bottom layer
  http?: HttpOptions
  // plain http to a registry that is not on this machine (as `oras --plain-http`); off by default
  plainHttp?: boolean
  // the bottom layer itself, for tests that script the registry: everything above it is the same
  exchange?: Send
  // the caller's name in every request, e.g. "oci-artifact-action/v1 (node 24)"
  userAgent?: string
  // what to tell users when the registry refuses their credentials (default: generic words)
  hints?: RegistryHints
}

export interface TransferOptions {
  // called with the number of new bytes moved; bytes resent after a retry are not counted twice
  onProgress?: (bytes: number) => void
  // a download the caller gives up: dropped at once, before its answer if it has none yet
  signal?: AbortSignal
}

export interface PushOptions extends TransferOptions {
  // try a cross-repository mount from here first (the same registry); the bytes go up otherwise
  mountFrom?: string
}

// One repository on one registry: blobs and manifests by digest, tags by name.
export class Repository {
  readonly registry: string
  readonly repository: string
  private readonly send: Send
  private readonly logger: Logger
  private readonly policy: RetryPolicy
  private readonly base: string
  private readonly hints?: RegistryHints

  constructor(o: RepositoryOptions) {
    this.registry = o.registry
    this.repository = o.repository
    this.logger = o.logger ?? silentLogger
    this.policy = retryPolicy(o.retry)
    if (o.hints) this.hints = o.hints
    this.base = `${registryBaseUrl(o.registry, { plainHttp: o.plainHttp })}/v2/${o.repository}`
    const actions = [...new Set(o.actions)].sort()
    this.send = createTransport({
      registry: o.registry,
      credentials: o.credentials,
      scopes: actions.length > 0 ? [`repository:${o.repository}:${actions.join(',')}`] : [],
      logger: this.logger,
      retry: o.retry,
      http: o.http,
      plainHttp: o.plainHttp,
      exchange: o.exchange,
      userAgent: o.userAgent,
      hints: o.hints,
    })
  }

  async blobExists(digest: string): Promise<boolean> {
    checkDigest(digest)
    const res = await this.send({ method: 'HEAD', url: `${this.base}/blobs/${digest}`, headers: {} })
    await discardBody(res)
    if (res.status === 404) return false
    await checkResponse(res, 200)
    return true
  }

  // Streams `open()` in one monolithic upload; a failed upload starts over with a fresh `open()`.
  // With `mountFrom`, asks for a mount first, and a registry that answers with an upload session
  // instead (202) gets the bytes in that session.
  async pushBlob(
    desc: Descriptor,
    open: () => Readable,
    o: PushOptions = {},
  ): Promise<'mounted' | 'uploaded'> {
    checkDigest(desc.digest)
    const ctx = { send: this.send, uploadsUrl: `${this.base}/blobs/uploads/` }
    let session: URL | undefined
    if (o.mountFrom) {
      const started = await initiateUpload(ctx, { mount: { digest: desc.digest, from: o.mountFrom } })
      if (started.mounted) return 'mounted'
      session = started.location
    }
    await uploadBlob(desc, open, {
      ...ctx,
      policy: this.policy,
      logger: this.logger,
      onProgress: o.onProgress,
      session,
    })
    return 'uploaded'
  }

  // An upload for bytes not produced yet, committed once their digest is known (see
  // upload/stream-upload.ts): for producing and uploading at the same time.
  async startStreamedUpload(o?: StreamedUploadOptions): Promise<StreamedUpload> {
    return startStreamedUpload({ send: this.send, uploadsUrl: `${this.base}/blobs/uploads/` }, o)
  }

  // The blob as a stream whose digest and size are checked as it is read (see blob-reader.ts).
  async fetchBlob(desc: Descriptor, o: TransferOptions = {}): Promise<Readable> {
    checkDigest(desc.digest)
    const url = `${this.base}/blobs/${desc.digest}`
    // identity: a storage host that compresses on the fly would otherwise hand us other bytes
    const headers = { 'accept-encoding': 'identity' }
    const signal = o.signal
    const first = await checkResponse(await this.send({ method: 'GET', url, headers, signal }), 200)
    return verifiedBlobStream(desc, first, {
      policy: this.policy,
      logger: this.logger,
      onProgress: o.onProgress,
      // retried per hop by the transport, like the first GET: blob-reader retries only broken bodies
      reopen: (offset) =>
        this.send({ method: 'GET', url, headers: { ...headers, range: `bytes=${offset}-` }, signal }),
    })
  }

  // Returns the digest of exactly the bytes sent.
  async putManifest(bytes: Buffer, mediaType: string, tagOrDigest: string): Promise<string> {
    return putManifest(this.manifestContext(), bytes, mediaType, tagOrDigest)
  }

  async getManifest(tagOrDigest: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    return getManifest(this.manifestContext(), tagOrDigest)
  }

  async headManifest(tagOrDigest: string): Promise<Descriptor | undefined> {
    return headManifest(this.manifestContext(), tagOrDigest)
  }

  // By digest only; the registry drops the tags that named it. 405/UNSUPPORTED: deletes are off.
  async deleteManifest(digest: string): Promise<void> {
    return deleteManifest(this.manifestContext(), digest)
  }

  async listTags(o: { pageSize?: number } = {}): Promise<string[]> {
    return listTags(this.send, `${this.base}/tags/list`, o.pageSize)
  }

  private manifestContext() {
    return { send: this.send, manifestsUrl: `${this.base}/manifests`, logger: this.logger, hints: this.hints }
  }
}

function checkDigest(digest: string): void {
  if (!isValidDigest(digest)) throw new Error(`"${digest}" is not a valid digest`)
}
