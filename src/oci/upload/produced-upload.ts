import { createReadStream, createWriteStream } from 'node:fs'
import path from 'node:path'
import type { Readable, Writable } from 'node:stream'
import type { Descriptor } from '../descriptor.js'
import { RegistryError } from '../errors.js'
import type { Logger } from '../logger.js'
import { describe } from '../transport/retry.js'
import type { StreamedUpload, StreamedUploadOptions } from './stream-upload.js'

// What an upload of replayable bytes needs of a repository (Repository has it; tests fake it).
export interface BlobWriter {
  blobExists(digest: string): Promise<boolean>
  pushBlob(
    desc: Descriptor,
    open: () => Readable,
    o?: { onProgress?: (bytes: number) => void },
  ): Promise<unknown>
}

// ...and of produced ones, which may go up as they are made.
export interface BlobTarget extends BlobWriter {
  startStreamedUpload(o?: StreamedUploadOptions): Promise<StreamedUpload>
}

export interface ProducedBlob {
  // for messages: "the cache layer"
  label: string
  /**
   * Writes the blob's bytes to `out` (ending it) and resolves with its descriptor. Called again,
   * with a file, when the streamed upload failed: it must produce the same bytes (a reproducible
   * pack does).
   */
  produce(out: Writable, into: 'upload' | 'file'): Promise<Descriptor>
}

/** Follows one upload: bytes as they go, then the end (the caller's progress line). */
export type UploadProgress = (desc: Descriptor) => { add(bytes: number): void; done(): void }

export interface UploadIfMissingOptions {
  logger: Logger
  onUpload?: UploadProgress
  /**
   * Whether to ask the registry first (default true). false pushes at once: for one of many new
   * blobs once an ExistenceProbe has seen the registry lack the first of them. A blob the registry
   * holds is then accepted again: its bytes are sent for nothing, the result is the same.
   */
  ask?: boolean
}

/**
 * The one place that decides "the registry has it: skip; else push", as go-containerregistry's
 * uploadOne: every blob whose bytes can be read again (`open`) goes up through here. Returns the
 * bytes sent (0 when the registry had the blob).
 */
export async function uploadIfMissing(
  target: BlobWriter,
  desc: Descriptor,
  open: () => Readable,
  o: UploadIfMissingOptions,
): Promise<number> {
  if (o.ask !== false && (await target.blobExists(desc.digest))) {
    o.logger.info(`${desc.digest} (${desc.size} bytes) is already in the registry: not uploaded`)
    return 0
  }
  const progress = o.onUpload?.(desc)
  await target.pushBlob(desc, open, { onProgress: (bytes) => progress?.add(bytes) })
  progress?.done()
  return desc.size
}

/**
 * Whether to ask before each of many blobs that are new for all the caller knows (the chunks of a
 * save that no base cache lists): a HEAD per blob is a request the registry serves for each, for
 * a blob it almost never holds. Asks for the first `probes`; once that many came back missing it
 * stops asking, and once any came back held it asks for every blob after (a save of content the
 * registry holds under another cache). Only the bytes of a held blob met after the probes are
 * sent for nothing.
 */
export class ExistenceProbe {
  #missing = 0
  #held = false
  constructor(readonly probes: number) {}

  get ask(): boolean {
    return this.#held || this.#missing < this.probes
  }

  /** What an asked upload found: `held` when the registry had the blob. */
  saw(held: boolean): void {
    if (held) this.#held = true
    else this.#missing++
  }
}

export interface ProducedUploadOptions {
  // true: produce straight into an upload (the blob is new); false: into a file first, uploaded
  // only when the registry does not hold its digest already
  stream: boolean
  // a folder the caller owns and removes: the file copy goes there, and what a streamed upload's
  // socket cannot take yet (the producer runs ahead of a slow wire)
  spoolDir: string
  logger: Logger
  // follows an upload from the file (a streamed upload moves as fast as `produce`)
  onUpload?: UploadProgress
}

export interface ProducedUpload {
  desc: Descriptor
  // bytes sent: 0 when the registry had the blob
  uploaded: number
  // true when the bytes went up as they were produced
  streamed: boolean
}

/**
 * A blob whose bytes are produced once (a pack) and whose digest is known at their end: streamed
 * into an upload as it is made, else (the registry did not open one, the stream broke, the commit
 * was refused) produced again into a file, which goes up as a replayable blob with the usual
 * retries. A refusal of the upload itself (401, 403) is thrown at once: a file would not help.
 */
export async function uploadProducedBlob(
  target: BlobTarget,
  blob: ProducedBlob,
  o: ProducedUploadOptions,
): Promise<ProducedUpload> {
  if (o.stream) {
    const streamed = await target.startStreamedUpload({ spillDir: o.spoolDir }).catch((error: unknown) => {
      if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) throw error
      o.logger.info(
        `Uploading ${blob.label} after writing it: the registry did not open an upload (${describe(error)})`,
      )
      return undefined
    })
    if (streamed) {
      try {
        const desc = await streamInto(streamed, blob, o.logger)
        if (desc) return { desc, uploaded: desc.size, streamed: true }
      } finally {
        // a session that was not committed is dropped
        await streamed.abort(new Error('not used')).catch(() => undefined)
      }
    }
  }
  const file = path.join(o.spoolDir, 'blob')
  const desc = await blob.produce(createWriteStream(file), 'file')
  const uploaded = await uploadIfMissing(target, desc, () => createReadStream(file), o)
  return { desc, uploaded, streamed: false }
}

// The descriptor once the registry committed the streamed bytes; undefined to go by the file.
async function streamInto(streamed: StreamedUpload, blob: ProducedBlob, logger: Logger) {
  let desc: Descriptor
  try {
    desc = await blob.produce(streamed.body, 'upload')
  } catch (error) {
    logger.info(
      `Writing ${blob.label} into the upload failed (${describe(error)}): writing it again, into a file`,
    )
    return undefined
  }
  try {
    await streamed.finish(desc)
    return desc
  } catch (error) {
    logger.info(
      `The registry did not take ${blob.label} as streamed (${describe(error)}): writing it again, into a file`,
    )
    return undefined
  }
}
