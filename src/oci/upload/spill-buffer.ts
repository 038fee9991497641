import { readSync } from 'node:fs'
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises'
import path from 'node:path'
import { Duplex } from 'node:stream'

export interface SpillOptions {
  // a folder the caller owns: the spilled bytes go to files in a folder of their own below it
  dir: string
  // bytes held in memory before any go to disk (and the bound when they cannot go to disk)
  memory: number
  // bytes on disk not yet read: past this the writer waits for the reader
  disk: number
  // bytes per file; a file is deleted once read to its end
  segment?: number
}

interface Segment {
  file: string
  handle: FileHandle
  written: number
  read: number
}

const SEGMENT = 64 * 1024 * 1024
// a read from disk: as large as the producer's pieces (a compressed 1 MiB chunk)
const READ_PIECE = 1024 * 1024

/**
 * A FIFO of bytes between a producer and a slower reader (a pack and its upload): like a
 * PassThrough it holds `memory` bytes, but past that it writes them to files and reads them back
 * in order when the reader gets there, so the producer runs up to `disk` bytes ahead without
 * holding them in memory. A tree whose first files are incompressible keeps the wire busy while
 * its pack idles on backpressure; the compressible rest then packs at the CPU's pace with the wire
 * half idle. Running ahead overlaps the two. When a file cannot be written (no space), it goes on
 * as a PassThrough of `memory` bytes would: the writer waits for the reader.
 */
export class SpillBuffer extends Duplex {
  readonly #o: Required<SpillOptions>
  readonly #segments: Segment[] = []
  #folder: Promise<string> | undefined
  #files = 0
  #canSpill = true
  // bytes written to files and not yet pushed to the readable side
  #unread = 0
  #reading = false
  #ended = false
  // The readable side called _read and nothing was pushed since. Node calls _read once and waits
  // for a push before it calls it again, and it may call it while `memory` bytes or more wait
  // (a read(n) past the high-water mark raises that mark): such a call must still be answered,
  // or the reader waits for a push and the writer for room, for ever.
  #asked = false
  // the one writer waiting in #until: the writable side runs one _writev at a time
  #wake: (() => void) | undefined
  // A write's callback means its buffer may be reused (OutputSink reads this): bytes kept in
  // memory are copies, spilled ones are on disk once it is called. The pack then recycles its
  // stored-block buffers instead of allocating 1 MiB per chunk that the collector must find.
  readonly copiesWrites = true

  constructor(o: SpillOptions) {
    super({ readableHighWaterMark: o.memory, writableHighWaterMark: o.memory })
    this.#o = { segment: SEGMENT, ...o }
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#accept(chunks.map((c) => c.chunk)).then(() => callback(), callback)
  }

  override _read(): void {
    this.#asked = true
    this.#notify()
    if (this.#unread > 0) this.#pull()
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    this.#asked = false
    return super.push(chunk, encoding)
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true
    this.#endIfDrained()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#notify()
    const segments = this.#segments.splice(0)
    const folder = this.#folder
    void Promise.all(segments.map((s) => s.handle.close().catch(() => undefined)))
      .then(() => folder?.then((dir) => rm(dir, { recursive: true, force: true })).catch(() => undefined))
      .then(() => callback(error))
  }

  // memory while nothing waits on disk (so the order holds), else disk, else wait for the reader
  async #accept(chunks: Buffer[]): Promise<void> {
    let at = 0
    while (at < chunks.length && this.#memoryOpen()) this.push(Buffer.from(chunks[at++] as Buffer))
    if (at === chunks.length) return
    if (this.#canSpill) {
      await this.#until(() => this.#unread < this.#o.disk)
      const rest = chunks.slice(at)
      if (await this.#spill(rest)) return
    }
    for (; at < chunks.length; at++) {
      await this.#until(() => this.#memoryOpen())
      this.push(Buffer.from(chunks[at] as Buffer))
    }
  }

  #memoryOpen(): boolean {
    return this.#unread === 0 && !this.#reading && this.#wanted()
  }

  // room in memory, or a _read not yet answered (one push answers it, whatever its size)
  #wanted(): boolean {
    return this.#asked || this.readableLength < this.#o.memory
  }

  // false when the bytes could not be written (nothing of them counts as written then)
  async #spill(chunks: Buffer[]): Promise<boolean> {
    try {
      let segment = this.#segments.at(-1)
      if (!segment || segment.written >= this.#o.segment) {
        this.#folder ??= mkdtemp(path.join(this.#o.dir, 'spill-'))
        const file = path.join(await this.#folder, `segment-${this.#files++}`)
        segment = { file, handle: await open(file, 'w+'), written: 0, read: 0 }
        this.#segments.push(segment)
      }
      const length = chunks.reduce((sum, c) => sum + c.length, 0)
      const { bytesWritten } = await segment.handle.writev(chunks, segment.written)
      if (bytesWritten !== length) throw new Error(`wrote ${bytesWritten} of ${length} bytes`)
      segment.written += length
      this.#unread += length
      if (this.#wanted()) this.#pull()
      return true
    } catch {
      this.#canSpill = false
      return false
    }
  }

  // Disk to the readable side, in order, while it has room. Read with readSync: the bytes were
  // just written, so they come from the page cache in a fraction of a millisecond, while a read
  // through libuv's pool queues behind the pack's compression jobs, and the socket waits that long.
  #pull(): void {
    if (this.#reading) return
    this.#reading = true
    try {
      while (!this.destroyed && this.#unread > 0) {
        const segment = this.#segments[0] as Segment
        if (segment.read === segment.written) {
          // read to its end and the writer is on a later one
          this.#segments.shift()
          void segment.handle
            .close()
            .then(() => rm(segment.file, { force: true }))
            .catch(() => undefined)
          continue
        }
        const piece = Buffer.allocUnsafe(Math.min(READ_PIECE, segment.written - segment.read))
        const bytesRead = readSync(segment.handle.fd, piece, 0, piece.length, segment.read)
        if (bytesRead !== piece.length) throw new Error(`read ${bytesRead} of ${piece.length} spilled bytes`)
        segment.read += bytesRead
        this.#unread -= bytesRead
        if (!this.push(piece)) break
      }
    } catch (error) {
      this.destroy(error as Error)
    } finally {
      this.#reading = false
    }
    this.#notify()
    this.#endIfDrained()
  }

  #endIfDrained(): void {
    if (this.#ended && this.#unread === 0 && !this.#reading) this.push(null)
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!ready()) {
      if (this.destroyed) throw new Error('the buffer was destroyed')
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }
}
