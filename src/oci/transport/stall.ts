import { pipeline, type Readable, Transform } from 'node:stream'

// The dispatcher ends a request body only by failing it: a stall must look transient to retry.
export class StallError extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(ms: number) {
    super(`no byte of the request body moved for ${Math.round(ms / 1000)} s: the connection is stalled`)
    this.name = 'StallError'
  }
}

export interface WatchedBody {
  body: Readable
  signal: AbortSignal
  // the stall, once it was seen: the request's failure is reported as this, not as "aborted"
  reason(): StallError | undefined
  stop(): void
}

// Pieces small enough that what waits here shows how far the socket has got.
const PIECE = 64 * 1024

/**
 * Aborts a request whose body has bytes waiting but the socket takes none of them for `ms`: a
 * peer that stopped reading. A producer that is merely slow (a pack feeding the upload) has
 * nothing waiting, so its pauses never count. The last bytes, already in the socket's buffers,
 * are the dispatcher's headers timeout's (it counts from the last write the socket took);
 * response bodies are its bodyTimeout.
 */
export function watchUploadStall(source: Readable, ms: number): WatchedBody {
  const controller = new AbortController()
  let received = 0
  const body = new Transform({
    highWaterMark: PIECE,
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      for (let at = 0; at < chunk.length; at += PIECE) this.push(chunk.subarray(at, at + PIECE))
      callback()
    },
  })
  let stalled: StallError | undefined
  // a failed request destroys body, and with it the source (the file it was reading)
  pipeline(source, body, () => {})
  let taken = -1
  const timer = setInterval(() => {
    const waiting = body.readableLength + body.writableLength + source.readableLength
    const now = received - body.readableLength
    if (now === taken && waiting > 0) {
      stalled = new StallError(ms)
      controller.abort(stalled)
      body.destroy(stalled)
    }
    taken = now
  }, ms)
  timer.unref()
  const stop = () => clearInterval(timer)
  body.once('close', stop)
  return { body, signal: controller.signal, reason: () => stalled, stop }
}
