// Reuses the 1 MiB chunk buffers that carry the tar through compression. A fresh one per chunk made
// V8 run a full GC every few chunks under external-memory pressure and let RSS grow with garbage
// not yet collected; recycling keeps the live set at the handful of chunks in flight.
export class BufferPool {
  readonly #size: number
  readonly #free: Buffer[] = []
  readonly #max: number

  constructor(size: number, max = 16) {
    this.#size = size
    this.#max = max
  }

  get size(): number {
    return this.#size
  }

  get(): Buffer {
    return this.#free.pop() ?? Buffer.allocUnsafe(this.#size)
  }

  // only for a buffer nothing else still reads: its bytes will be overwritten
  release(buffer: Buffer): void {
    if (buffer.buffer.byteLength !== this.#size || buffer.byteOffset !== 0) return
    if (this.#free.length < this.#max) this.#free.push(Buffer.from(buffer.buffer, 0, this.#size))
  }
}
