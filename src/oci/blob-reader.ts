import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { digestAlgorithm } from './descriptor.js'
import type { Descriptor } from './descriptor.js'
import { DigestMismatchError, checkResponse } from './errors.js'
import type { Logger } from './logger.js'
import { discardBody } from './response-body.js'
import type { RetryPolicy } from './transport/retry.js'
import { backoffDelay, describe, isRetryableError } from './transport/retry.js'

export interface BlobReaderOptions {
  policy: RetryPolicy
  logger: Logger
  // GET the blob again from `offset` (a Range request), for resuming after a dropped connection
  reopen: (offset: number) => Promise<Response>
  onProgress?: (bytes: number) => void
}

// The blob's bytes as a Node stream, hashed and counted in the same pass: more bytes than the
// descriptor's size, or a digest that differs at the end, errors the stream with a
// DigestMismatchError instead of ending it, so no consumer mistakes partial or wrong data for the
// blob. A connection that drops mid-body is resumed from the byte it stopped at.
export function verifiedBlobStream(desc: Descriptor, first: Response, o: BlobReaderOptions): Readable {
  const stream = Readable.from(chunks(desc, first, o), { objectMode: false, highWaterMark: 1024 * 1024 })
  // destroyed before its first read, the generator never runs (nor its finally): let the body go
  // here, or its connection stays open until the server cuts it (a no-op once the body was read)
  stream.once('close', () => void discardBody(first))
  return stream
}

async function* chunks(desc: Descriptor, first: Response, o: BlobReaderOptions): AsyncGenerator<Buffer> {
  const hash = createHash(digestAlgorithm(desc.digest))
  let received = 0
  let res: Response | undefined = first
  // broken bodies in a row without a byte of progress: a download that keeps moving keeps going
  let failures = 0
  let receivedAtFailure = 0
  try {
    for (;;) {
      // a body that broke after its last byte has nothing left to resume
      if (!res && received === desc.size) break
      try {
        // the transport retried the resume request itself (each redirect hop, like the first GET):
        // a failure that got through it ends the download, so no request is retried at two layers
        res ??= await reopenAt(o, received).catch((error: unknown) => {
          throw new FinalError(error)
        })
        let skip = res.status === 206 ? 0 : received
        for await (const value of res.body ?? []) {
          let chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
          if (skip > 0) {
            // a server that ignored our Range sends from the start: drop what we already have
            const drop = Math.min(skip, chunk.length)
            skip -= drop
            chunk = chunk.subarray(drop)
            if (chunk.length === 0) continue
          }
          received += chunk.length
          if (received > desc.size) {
            throw new DigestMismatchError(desc.digest, `more than ${desc.size} bytes`, `blob ${desc.digest}`)
          }
          hash.update(chunk)
          o.onProgress?.(chunk.length)
          yield chunk
        }
        break
      } catch (error) {
        if (error instanceof FinalError) throw error.cause
        failures = received > receivedAtFailure ? 1 : failures + 1
        receivedAtFailure = received
        if (failures >= o.policy.attempts || !isRetryableError(error)) throw error
        const delay = backoffDelay(o.policy, failures)
        o.logger.info(
          `download of ${desc.digest} broke at byte ${received} (${describe(error)}); resuming in ${delay} ms`,
        )
        if (res) await discardBody(res)
        res = undefined
        await o.policy.sleep(delay)
      }
    }
    const actual = `${digestAlgorithm(desc.digest)}:${hash.digest('hex')}`
    if (received !== desc.size) {
      throw new DigestMismatchError(desc.digest, `${received} of ${desc.size} bytes`, `blob ${desc.digest}`)
    }
    if (actual !== desc.digest) throw new DigestMismatchError(desc.digest, actual, `blob ${desc.digest}`)
  } finally {
    // the consumer may stop early (destroy): let the connection go
    if (res) await discardBody(res)
  }
}

class FinalError extends Error {
  constructor(cause: unknown) {
    super('final', { cause })
  }
}

async function reopenAt(o: BlobReaderOptions, offset: number): Promise<Response> {
  const res = await checkResponse(await o.reopen(offset), 200, 206)
  const range = res.headers.get('content-range')
  if (res.status === 206 && !range?.startsWith(`bytes ${offset}-`)) {
    await discardBody(res)
    throw new Error(`asked for bytes from ${offset}, the server sent ${range ?? 'no Content-Range'}`)
  }
  return res
}
