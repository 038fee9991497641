import { createHash, type Hash } from 'node:crypto'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { Writable } from 'node:stream'

// The end of the pack pipeline: hashes and counts the bytes as they go to `out`, so the layer's
// digest and size come from the same pass that writes it, and waits on `out` when it is full.
export class OutputSink {
  readonly #out: Writable
  readonly #hash: Hash = createHash('sha256')
  #size = 0

  constructor(out: Writable) {
    this.#out = out
  }

  // `onWritten` runs once `out` is done with the bytes, so their buffer can be reused
  async write(chunk: Buffer, onWritten?: () => void): Promise<void> {
    if (chunk.length === 0) return onWritten?.()
    this.#hash.update(chunk)
    this.#size += chunk.length
    if (!this.#out.write(chunk, onWritten && (() => onWritten()))) await drainOrError(this.#out)
  }

  async end(): Promise<{ digest: string; size: number }> {
    this.#out.end()
    await finished(this.#out)
    return { digest: `sha256:${this.#hash.digest('hex')}`, size: this.#size }
  }
}

async function drainOrError(stream: Writable): Promise<void> {
  if (stream.errored) throw stream.errored
  // `once` rejects on 'error', so a destination that fails while we wait does not hang the pack
  await once(stream, 'drain')
}
