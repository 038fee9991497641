import { Readable } from 'node:stream'
import type { Descriptor } from '../descriptor.js'
import type { Logger } from '../logger.js'
import type { RetryPolicy } from '../transport/retry.js'
import { delayAfter, describe, isRetryableFailure } from '../transport/retry.js'
import { commitBlob, openSession, type UploadSessionContext } from './session.js'

// The source could not give the blob's bytes: no retry will fix that.
export class BlobSourceError extends Error {
  readonly retryable = false
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BlobSourceError'
  }
}

// Marks a failure of the PUT, the one request this loop (not the transport) retries.
class UploadPutError extends Error {
  constructor(cause: unknown) {
    super('the upload PUT failed', { cause })
  }
}

export interface UploadOptions extends UploadSessionContext {
  policy: RetryPolicy
  logger: Logger
  onProgress?: (bytes: number) => void
  // a session the registry opened already (a mount it answered with 202): the first try uses it
  session?: URL
}

/**
 * uploadOne, for a blob whose bytes can be read again (`open()`): a session, then one monolithic
 * PUT ?digest= streaming the source with a Content-Length (ghcr.io refuses PATCH chunks over
 * 4 MiB, and one PUT is fastest anyway). Each failure is retried by one layer only: the POST (no
 * body, nothing lost by asking again) by the transport; a failed PUT has spent its session, so it
 * says `retry: false` and this loop starts over, with a fresh session and the source's first byte.
 */
export async function uploadBlob(desc: Descriptor, open: () => Readable, o: UploadOptions): Promise<void> {
  // progress counts each byte once, however many attempts send it
  let reported = 0
  const progress = (sent: number): void => {
    if (sent > reported) {
      o.onProgress?.(sent - reported)
      reported = sent
    }
  }
  let session = o.session
  for (let attempt = 1; ; attempt++) {
    try {
      await uploadOnce(desc, open, o, session ?? (await openSession(o)), progress)
      return
    } catch (error) {
      if (!(error instanceof UploadPutError)) throw error
      const cause = error.cause
      if (attempt >= o.policy.attempts || !isRetryableFailure(cause)) throw cause
      const delay = delayAfter(o.policy, attempt, cause)
      o.logger.info(`upload of ${desc.digest} failed (${describe(cause)}); starting over in ${delay} ms`)
      await o.policy.sleep(delay)
    }
    session = undefined
  }
}

async function uploadOnce(
  desc: Descriptor,
  open: () => Readable,
  o: UploadOptions,
  session: URL,
  progress: (sent: number) => void,
): Promise<void> {
  let sourceError: BlobSourceError | undefined
  const body = () =>
    Readable.from(
      counted(desc, open, progress, (e) => (sourceError = e)),
      { objectMode: false },
    )
  await commitBlob(o, session, desc.digest, { size: desc.size, open: body }).catch((error: unknown) => {
    // a failing body surfaces as the request's failure: the source's own error says what went wrong
    throw new UploadPutError(sourceError ?? error)
  })
}

// Counts what the source gives, and turns its failures (and a size that is not the descriptor's)
// into BlobSourceError, so they are told apart from the network's.
async function* counted(
  desc: Descriptor,
  open: () => Readable,
  progress: (sent: number) => void,
  failed: (error: BlobSourceError) => void,
) {
  try {
    yield* read(desc, open, progress)
  } catch (error) {
    if (error instanceof BlobSourceError) failed(error)
    throw error
  }
}

async function* read(desc: Descriptor, open: () => Readable, progress: (sent: number) => void) {
  let sent = 0
  let source: Readable
  try {
    source = open()
  } catch (error) {
    throw new BlobSourceError(`cannot open the source of ${desc.digest}`, { cause: error })
  }
  const iterator = source[Symbol.asyncIterator]()
  try {
    for (;;) {
      let next: IteratorResult<unknown>
      try {
        next = await iterator.next()
      } catch (error) {
        throw new BlobSourceError(`reading the source of ${desc.digest} failed`, { cause: error })
      }
      if (next.done) break
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : (next.value as Buffer)
      sent += chunk.length
      if (sent > desc.size)
        throw new BlobSourceError(`the source of ${desc.digest} is longer than ${desc.size} bytes`)
      progress(sent)
      yield chunk
    }
  } finally {
    // an aborted request stops pulling from us: close the file it was reading
    source.destroy()
  }
  if (sent !== desc.size) {
    throw new BlobSourceError(`the source of ${desc.digest} gave ${sent} bytes, not ${desc.size}`)
  }
}
