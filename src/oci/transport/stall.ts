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

/**
 * Aborts a request whose body has bytes waiting but the socket takes none of them for `ms`: a
 * peer that stopped reading. A producer that is merely slow (a pack feeding the upload) has
 * nothing waiting, so its pauses never count. Response bodies are the dispatcher's bodyTimeout.
 */
export function watchUploadStall(source: Readable, ms: number): WatchedBody {
  const controller = new AbortController()
  let moved = true
  // bytes enter here only as fast as the dispatcher takes them out (its buffer is small)
  const body = new Transform({
    highWaterMark: 64 * 1024,
    transform(chunk, _encoding, callback) {
      moved = true
      callback(null, chunk)
    },
  })
  let stalled: StallError | undefined
  // a failed request destroys body, and with it the source (the file it was reading)
  pipeline(source, body, () => {})
  const timer = setInterval(() => {
    const waiting = body.readableLength > 0 || body.writableLength > 0 || source.readableLength > 0
    if (!moved && waiting) {
      stalled = new StallError(ms)
      controller.abort(stalled)
      body.destroy(stalled)
    }
    moved = false
  }, ms)
  timer.unref()
  const stop = () => clearInterval(timer)
  body.once('close', stop)
  return { body, signal: controller.signal, reason: () => stalled, stop }
}
