import zlib from 'node:zlib'
import { BufferPool } from './buffer-pool.js'

// One zstd stream that compresses frame after frame: every write is flushed with ZSTD_e_end,
// which closes the frame, and the next write starts a new one from a clean state, so each frame
// depends on its own bytes only: a stream per frame would set up a new compression context
// (megabytes of tables) for every frame. A frame's compressed bytes come back as zstd handed them
// out: zlib.zstdCompress would join them into one buffer on the main thread.
export class FrameCompressor {
  readonly #zstd: zlib.ZstdCompress
  #parts: Buffer[] = []
  readonly #waiting: { resolve: (parts: Buffer[]) => void; reject: (error: Error) => void }[] = []
  #error: Error | undefined

  constructor(level: number) {
    this.#zstd = zlib.createZstdCompress({
      params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
      // every write ends its frame (a stream option zlib passes on; ZstdOptions does not list it)
      flush: zlib.constants.ZSTD_e_end,
      // one to three output buffers per frame instead of hundreds at the default 16 KiB
      chunkSize: 1 << 20,
    } as zlib.ZstdOptions)
    this.#zstd.on('data', (part: Buffer) => this.#parts.push(part))
    // a failed stream calls no more write callbacks: whoever waits learns it here
    this.#zstd.on('error', (error) => {
      this.#error ??= error
      for (const waiter of this.#waiting.splice(0)) waiter.reject(error)
    })
  }

  // Writes are processed in order, so the parts that arrive before a write's callback are its own.
  compress(frame: Buffer): Promise<Buffer[]> {
    if (this.#error) return Promise.reject(this.#error)
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject }
      this.#waiting.push(waiter)
      this.#zstd.write(frame, (error) => {
        if (this.#waiting[0] !== waiter) return
        this.#waiting.shift()
        const parts = this.#parts
        this.#parts = []
        if (error) reject(error)
        else resolve(parts)
      })
    })
  }

  close(): void {
    this.#zstd.destroy()
  }
}

// 4 MiB frames: twice zstd's 2 MiB window at level 3, so cutting the stream costs almost nothing
// in size (BENCHMARKS.md, "Measured choices").
export const ZSTD_FRAME_SIZE = 4 << 20

// zstd's own threads (ZSTD_c_nbWorkers >= 1) are not an option: on Node 24.21 they cut the stream
// short (`zstd -t`: premature end), with or without our code (like nodejs/node#59899). Instead, as
// ParallelGzip does for gzip, the stream is cut into fixed-size pieces, each compressed on the
// libuv thread pool as an independent zstd frame, and the frames are written in order. The format
// allows any number of frames one after another (RFC 8878 3.1) and every decoder (`zstd -d`, Node's
// createZstdDecompress, tar --zstd) reads them as one stream. The cut points depend only on the
// bytes, so the output is the same for any core count.
export class ParallelZstd {
  readonly #level: number
  readonly #concurrency: number
  readonly #emit: (bytes: Buffer) => Promise<void>
  // where the incoming chunks come from: each goes back once copied into a frame
  readonly #input: BufferPool | undefined
  readonly #frames = new BufferPool(ZSTD_FRAME_SIZE, 8)
  readonly #inFlight: { frame: Buffer; result: Promise<Buffer[]> }[] = []
  // one per frame in flight; frame n goes to compressor n % concurrency
  readonly #compressors: FrameCompressor[] = []
  #submitted = 0
  #frame: Buffer
  #fill = 0

  constructor(
    level: number,
    concurrency: number,
    emit: (bytes: Buffer) => Promise<void>,
    input?: BufferPool,
  ) {
    this.#level = level
    this.#concurrency = Math.max(1, concurrency)
    this.#emit = emit
    this.#input = input
    this.#frame = this.#frames.get()
  }

  // Copies `data`, then hands it back to the input pool: the caller must not read it again.
  async write(data: Buffer): Promise<void> {
    let offset = 0
    while (offset < data.length) {
      const take = Math.min(ZSTD_FRAME_SIZE - this.#fill, data.length - offset)
      data.copy(this.#frame, this.#fill, offset, offset + take)
      this.#fill += take
      offset += take
      if (this.#fill === ZSTD_FRAME_SIZE) {
        const full = this.#frame
        this.#frame = this.#frames.get()
        this.#fill = 0
        await this.#submit(full)
      }
    }
    this.#input?.release(data)
  }

  async end(): Promise<void> {
    try {
      if (this.#fill > 0) await this.#submit(this.#frame.subarray(0, this.#fill))
      while (this.#inFlight.length > 0) await this.#writeOldest()
    } finally {
      this.close()
    }
  }

  // Frees the compression contexts; end() does it, a caller that gives up midway must.
  close(): void {
    for (const compressor of this.#compressors.splice(0)) compressor.close()
  }

  async #submit(frame: Buffer): Promise<void> {
    const lane = this.#submitted++ % this.#concurrency
    const compressor = (this.#compressors[lane] ??= new FrameCompressor(this.#level))
    // no pledged size: it would reach only the first frame of each stream, and the bytes would
    // then depend on the core count
    const result = compressor.compress(frame)
    // a rejection is awaited below in order; until then keep it from counting as unhandled
    result.catch(() => {})
    this.#inFlight.push({ frame, result })
    while (this.#inFlight.length >= this.#concurrency) await this.#writeOldest()
  }

  async #writeOldest(): Promise<void> {
    const { frame, result } = this.#inFlight.shift() as { frame: Buffer; result: Promise<Buffer[]> }
    const parts = await result
    this.#frames.release(frame)
    for (const part of parts) await this.#emit(part)
  }
}
