import { availableParallelism } from 'node:os'
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'

// A tree of many small files spends its extraction in open, write and close, one file after
// another (BENCHMARKS.md, "Many small files"). Those calls go to worker threads in batches, so they
// run on every core while the main thread parses the next entries; a batch is one message each way,
// where the thread pool would take three round trips per file (open, write, close).
// Everything stays synchronous for the caller: the main thread waits for a batch's answer with
// Atomics.wait and reads it with receiveMessageOnPort, so a check that needs an earlier file on disk
// (a hard link to it, a later entry replacing it) simply calls flush() first.

// a batch goes out at this many bytes of contents or this many files, whichever comes first
export const BATCH_BYTES = 256 * 1024
const BATCH_FILES = 64
// batches each worker may have queued: enough that it never waits for the main thread
const IN_FLIGHT_PER_WORKER = 2
// one thread writes while the main thread parses; a second helps once there are cores for it
export const DEFAULT_WORKERS = Math.max(1, Math.min(2, availableParallelism() - 1))

export interface BatchedFile {
  // the entry's path as the archive spells it, for the error
  name: string
  // absolute path to create (its parent exists), with O_EXCL and O_NOFOLLOW
  target: string
  mode: number
  // seconds since the epoch, set with futimes after the last write; undefined: left as written
  mtime: number | undefined
}

export interface BatchFailure {
  // the file of add() that failed, as given
  file: BatchedFile
  error: NodeJS.ErrnoException
}

interface Batch {
  files: BatchedFile[]
  ends: number[]
  data: ArrayBuffer
  fill: number
}

interface Reply {
  id: number
  data: ArrayBuffer
  failed?: { index: number; message: string; code?: string }
}

// The worker's whole program, run from a string: the bundle has no file for a worker to load.
// It reaches node:fs through process.getBuiltinModule, which a bundler leaves alone.
function workerMain(): void {
  const fs = process.getBuiltinModule('node:fs')
  const { workerData } = process.getBuiltinModule('node:worker_threads')
  const { port, signal, flags } = workerData as { port: MessagePort; signal: Int32Array; flags: number }
  port.on(
    'message',
    (batch: {
      id: number
      paths: string[]
      modes: number[]
      mtimes: number[]
      ends: number[]
      data: ArrayBuffer
    }) => {
      const bytes = new Uint8Array(batch.data)
      let failed: Reply['failed']
      for (let i = 0, start = 0; i < batch.paths.length; start = batch.ends[i] as number, i++) {
        try {
          const fd = fs.openSync(batch.paths[i] as string, flags, batch.modes[i])
          try {
            const end = batch.ends[i] as number
            for (let at = start; at < end;) at += fs.writeSync(fd, bytes, at, end - at)
            const mtime = batch.mtimes[i] as number
            if (!Number.isNaN(mtime)) fs.futimesSync(fd, mtime, mtime)
          } finally {
            fs.closeSync(fd)
          }
        } catch (error) {
          const e = error as NodeJS.ErrnoException
          failed = { index: i, message: e.message, code: e.code }
          break
        }
      }
      port.postMessage({ id: batch.id, data: batch.data, failed }, [batch.data])
      Atomics.add(signal, 0, 1)
      Atomics.notify(signal, 0)
    },
  )
}

// Writes whole small files on `workers` threads, at most IN_FLIGHT_PER_WORKER batches each in
// flight, reusing the batches' buffers. The first failure is kept and thrown by the next call.
export class FileBatches {
  readonly #workers: { worker: Worker; port: MessagePort }[] = []
  readonly #replies: MessagePort[] = []
  readonly #signal = new Int32Array(new SharedArrayBuffer(4))
  readonly #sent = new Map<number, Batch>()
  readonly #spare: ArrayBuffer[] = []
  readonly #maxInFlight: number
  #current: Batch | undefined
  #nextId = 0
  #seen = 0
  #failure: BatchFailure | undefined

  constructor(o: { flags: number; workers?: number }) {
    const count = o.workers ?? DEFAULT_WORKERS
    this.#maxInFlight = count * IN_FLIGHT_PER_WORKER
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel()
      const worker = new Worker(`(${workerMain.toString()})()`, {
        eval: true,
        workerData: { port: port2, signal: this.#signal, flags: o.flags },
        transferList: [port2],
      })
      worker.unref()
      this.#workers.push({ worker, port: port1 })
      this.#replies.push(port1)
    }
  }

  get inFlight(): number {
    return this.#sent.size
  }

  // Adds a file whose whole contents follow through write(); true once it can take them (size fits).
  static fits(size: number): boolean {
    return size <= BATCH_BYTES
  }

  add(file: BatchedFile, size: number): void {
    this.#throwIfFailed()
    if (
      this.#current &&
      (this.#current.fill + size > BATCH_BYTES || this.#current.files.length >= BATCH_FILES)
    )
      this.#send()
    const batch = (this.#current ??= {
      files: [],
      ends: [],
      data: this.#spare.pop() ?? new ArrayBuffer(BATCH_BYTES),
      fill: 0,
    })
    batch.files.push(file)
    batch.ends.push(batch.fill)
  }

  // contents of the file last added, in order
  write(chunk: Buffer): void {
    const batch = this.#current as Batch
    new Uint8Array(batch.data).set(chunk, batch.fill)
    batch.fill += chunk.length
    batch.ends[batch.ends.length - 1] = batch.fill
  }

  // Every file added so far is on disk when this returns (or its failure is thrown).
  flush(): void {
    if (this.#current) this.#send()
    while (this.#sent.size > 0) this.#receive()
    this.#throwIfFailed()
  }

  // after an error: waits for what is in flight (no file half-written while its folder is removed)
  close(): void {
    this.#current = undefined
    while (this.#sent.size > 0) this.#receive()
    for (const { worker, port } of this.#workers) {
      port.close()
      void worker.terminate()
    }
    this.#workers.length = 0
  }

  #send(): void {
    const batch = this.#current as Batch
    this.#current = undefined
    while (this.#sent.size >= this.#maxInFlight) this.#receive()
    const id = this.#nextId++
    this.#sent.set(id, batch)
    const { port } = this.#workers[id % this.#workers.length]!
    port.postMessage(
      {
        id,
        paths: batch.files.map((file) => file.target),
        modes: batch.files.map((file) => file.mode),
        mtimes: batch.files.map((file) => file.mtime ?? NaN),
        ends: batch.ends,
        data: batch.data,
      },
      [batch.data],
    )
  }

  // waits for one reply from any worker
  #receive(): void {
    for (;;) {
      for (const port of this.#replies) {
        const message = receiveMessageOnPort(port)
        if (message) return this.#settle(message.message as Reply)
      }
      // a reply is posted before the count goes up, so none is missed between the look and the wait
      const seen = Atomics.load(this.#signal, 0)
      if (seen === this.#seen) Atomics.wait(this.#signal, 0, seen, 1000)
      this.#seen = Atomics.load(this.#signal, 0)
    }
  }

  #settle(reply: Reply): void {
    const batch = this.#sent.get(reply.id) as Batch
    this.#sent.delete(reply.id)
    this.#spare.push(reply.data)
    if (reply.failed && !this.#failure) {
      const error = Object.assign(new Error(reply.failed.message), { code: reply.failed.code })
      this.#failure = { file: batch.files[reply.failed.index] as BatchedFile, error }
    }
  }

  #throwIfFailed(): void {
    if (this.#failure) throw new BatchFileError(this.#failure)
  }
}

// the file of a batch that the filesystem refused, with its error
export class BatchFileError extends Error {
  readonly failure: BatchFailure

  constructor(failure: BatchFailure) {
    super(failure.error.message, { cause: failure.error })
    this.failure = failure
  }
}
