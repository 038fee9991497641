import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, realpathSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs'
import path from 'node:path'
import { finished } from 'node:stream/promises'
import { types } from 'node:util'
import zlib from 'node:zlib'
import type { Readable, Transform, Writable } from 'node:stream'
import { BufferPool } from './buffer-pool.js'
import { ArchiveFormatError } from './errors.js'
import { lstatOrUndefined, mergeInto } from './merge.js'
import { makeStagingDirectory, releaseStaging, sweepStaleStaging } from './staging.js'
import { StagingWriter } from './staging-writer.js'
import { TarReader } from './tar-reader.js'
import type { Compression, ExtractOptions, ExtractResult } from './types.js'

export type { Compression, ExtractOptions, ExtractResult } from './types.js'
export { ArchiveEntryError } from './errors.js'

// zlib's streams hand every decompressed piece out in a new buffer (1 MiB each: a fresh mmap'd
// region per MiB of output, which the collector frees only in batches), and bounce each input piece
// through the thread pool. Decompressing with the same engine's synchronous call, into one output
// buffer reused for the whole layer, avoids both: on the 60,000-file tree (BENCHMARKS.md, "Many
// small files") decompression alone took 0.27 s of CPU and 1,700 page faults this way against
// 0.49 s and 35,000 through the stream. That call is the one zlib's own zstdDecompressSync and
// gunzipSync make (`_handle.writeSync`, its counts in `_writeState`), not a documented API: a
// Node.js without it gets the stream path below.
const OUTPUT = 1024 * 1024

// Decompressed pieces of 256 KiB (gzip) and 1 MiB (zstd) instead of zlib's 16 KiB, in the stream
// path: fewer hand-offs between the pool and the main thread, and fewer write(2) calls for large
// files; each the fastest of the sizes tried for its format (BENCHMARKS.md, "Measured choices").
const GZIP_PIECE = 256 * 1024
const ZSTD_PIECE = 1024 * 1024
// Up to 4 MiB of decompressed output waits for the tar reader: at zlib's default 16 KiB mark the
// pool stopped after each piece until the main thread had written it, so decompressing and
// writing took turns instead of overlapping. The output side is in object mode, so the mark counts
// pieces and reading hands over one piece at a time: a byte stream's read() joins whatever is
// buffered into a new buffer of up to those 4 MiB. (readableObjectMode and readableHighWaterMark
// are stream options that zlib passes on; its options type does not list them.)
const INFLATE_AHEAD = 4 * 1024 * 1024

function inflateOptions(piece: number): { chunkSize: number } {
  return { chunkSize: piece, readableObjectMode: true, readableHighWaterMark: INFLATE_AHEAD / piece } as {
    chunkSize: number
  }
}

// The network hands over 16 to 64 KiB at a time, and zlib sends every piece it is given to the
// pool on its own: two thread wake-ups per piece, which on a 2-core VM cost more than the
// decompression (futex wake-ups, in a restore's CPU profile). Pieces are joined to 256 KiB
// first, a tenth of the hand-offs for one copy of the compressed bytes. The 256 KiB buffers are reused
// once zlib has consumed them, instead of a new one each (as much fresh memory as the download).
const COALESCE = 256 * 1024

// Copies `source` into pooled COALESCE-byte pieces for `inflate`, then ends it. The source is read
// in flowing mode, chunk by chunk as it arrives: iterating it would join its buffered chunks.
function feedInPieces(source: Readable, inflate: Writable, pool: BufferPool): Promise<void> {
  return new Promise((resolve, reject) => {
    let piece = pool.get()
    let fill = 0
    const send = (bytes: Buffer) => {
      const buffer = piece
      // zlib calls back once it has consumed the piece: then nothing reads that buffer any more
      if (!inflate.write(bytes, () => pool.release(buffer))) {
        source.pause()
        inflate.once('drain', () => source.resume())
      }
    }
    source.on('data', (chunk: Buffer) => {
      let at = 0
      while (at < chunk.length) {
        const copied = chunk.copy(piece, fill, at)
        fill += copied
        at += copied
        if (fill === piece.length) {
          send(piece)
          piece = pool.get()
          fill = 0
        }
      }
    })
    source.once('end', () => {
      if (fill > 0) send(piece.subarray(0, fill))
      inflate.end()
      resolve()
    })
    source.once('error', reject)
  })
}

function decompressor(compression: Compression, chunkSize?: number): Transform | undefined {
  switch (compression) {
    case 'gzip':
      return zlib.createGunzip(inflateOptions(chunkSize ?? GZIP_PIECE))
    case 'zstd':
      return zlib.createZstdDecompress(inflateOptions(chunkSize ?? ZSTD_PIECE))
    case 'none':
      return undefined
  }
}

interface SyncHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    out: Buffer,
    outOff: number,
    outLen: number,
  ): void
}

// A decompressor driven synchronously: each input piece is decompressed at once into the one
// output buffer, and every part of it handed to `sink` before the next overwrites it.
class SyncInflater {
  readonly #stream: Transform
  readonly #handle: SyncHandle
  readonly #state: Uint32Array
  readonly #flush: number
  readonly #finish: number
  readonly #output = Buffer.allocUnsafe(OUTPUT)
  #ended = false

  private constructor(
    stream: Transform,
    handle: SyncHandle,
    state: Uint32Array,
    flush: number,
    finish: number,
  ) {
    this.#stream = stream
    this.#handle = handle
    this.#state = state
    this.#flush = flush
    this.#finish = finish
  }

  static for(compression: Compression): SyncInflater | undefined {
    const stream = decompressor(compression, OUTPUT)
    if (!stream) return undefined
    const internals = stream as unknown as { _handle?: Partial<SyncHandle>; _writeState?: unknown }
    const handle = internals._handle
    // checked with util.types: under jest's vm contexts, instanceof would compare another realm's Uint32Array
    const state = internals._writeState
    if (typeof handle?.writeSync !== 'function' || !types.isUint32Array(state) || state.length < 2) {
      stream.destroy()
      return undefined
    }
    // the error also reaches the stream's listeners on the next tick: #run has thrown it already
    stream.on('error', () => {})
    const zstd = compression === 'zstd'
    const c = zlib.constants
    return new SyncInflater(
      stream,
      handle as SyncHandle,
      state,
      zstd ? c.ZSTD_e_continue : c.Z_NO_FLUSH,
      zstd ? c.ZSTD_e_end : c.Z_FINISH,
    )
  }

  // As zlib's stream does: once the compressed stream has ended, what follows it is ignored.
  write(input: Buffer, sink: (piece: Buffer) => void): void {
    this.#run(input, this.#flush, sink)
  }

  end(sink: (piece: Buffer) => void): void {
    this.#run(Buffer.alloc(0), this.#finish, sink)
    this.close()
  }

  close(): void {
    this.#stream.destroy()
  }

  #run(input: Buffer, flush: number, sink: (piece: Buffer) => void): void {
    if (this.#ended) return
    let inOff = 0
    let inLen = input.length
    for (;;) {
      this.#handle.writeSync(flush, input, inOff, inLen, this.#output, 0, OUTPUT)
      // zlib reports a corrupt stream by destroying its stream with the error, synchronously
      if (this.#stream.errored) throw this.#stream.errored
      const produced = OUTPUT - (this.#state[0] as number)
      const consumed = inLen - (this.#state[1] as number)
      if (produced > 0) sink(this.#output.subarray(0, produced))
      inOff += consumed
      inLen -= consumed
      // a full output buffer: more may be waiting
      if (produced === OUTPUT) continue
      if (inLen === 0) return
      // zstd returns at the end of each frame (and after some blocks) with input left: go on while
      // that gets anywhere; a call that does not has reached the end of the compressed stream
      if (produced === 0 && consumed === 0) {
        this.#ended = true
        return
      }
    }
  }
}

// Reads `source` in flowing mode (iterating it would join its buffered chunks into new buffers)
// and hands each chunk to `take`, synchronously. After a throw from `take` the rest of the source
// is read and dropped: a source that then fails its digest check reports that instead (a blob
// corrupted in transit reads as corrupt data first; its digest is the cause, as the stream path,
// whose decompressor lagged behind the download, used to report).
async function eachChunk(source: Readable, take: (chunk: Buffer) => void): Promise<void> {
  let failure: { error: unknown } | undefined
  source.on('data', (chunk: Buffer) => {
    if (failure) return
    try {
      take(chunk)
    } catch (error) {
      failure = { error }
    }
  })
  await finished(source)
  if (failure) throw failure.error
}

// Streams the layer (already digest-checked by its source, which errors the stream on a
// mismatch) through the decompressor and the tar reader into a staging folder next to dest,
// checks the uncompressed digest when given, and only then moves the result into place. On any
// failure the staging folder is removed and dest is as it was (and not created).
export async function extractToDirectory(
  source: Readable,
  dest: string,
  o: ExtractOptions,
): Promise<ExtractResult> {
  const target = resolveDestination(dest)
  const expected = o.expectedUncompressedDigest ? parseDigest(o.expectedUncompressedDigest) : undefined
  const parent = path.dirname(target)
  // a missing parent is created for the staging folder, and removed again if we fail
  const createdParent = mkdirSync(parent, { recursive: true })
  // what killed pulls of this dest left behind (see staging.ts for how a live one is told apart)
  if (!createdParent) sweepStaleStaging(target)
  let staging: string | undefined
  let writer: StagingWriter | undefined
  let inflating: Transform | undefined
  let inflater: SyncInflater | undefined
  try {
    staging = makeStagingDirectory(target)
    writer = new StagingWriter(staging, {
      stripPrefix: o.stripPrefix,
      restoreMtimes: o.restoreMtimes,
      caseInsensitive: o.caseInsensitive,
      windowsNames: o.windowsNames,
    })
    const reader = new TarReader(writer)
    const hash = expected ? createHash(expected.algorithm) : undefined
    const take = (chunk: Buffer) => {
      hash?.update(chunk)
      reader.push(chunk)
    }
    const consume = async (stream: AsyncIterable<Buffer>) => {
      for await (const chunk of stream) take(chunk)
    }
    const sync = o.compression === 'none' ? undefined : SyncInflater.for(o.compression)
    if (sync) {
      inflater = sync
      await eachChunk(source, (chunk) => sync.write(chunk, take))
      sync.end(take)
    } else if (o.compression === 'none') {
      await eachChunk(source, take)
    } else {
      const inflate = decompressor(o.compression) as Transform
      inflating = inflate
      await Promise.all([feedInPieces(source, inflate, new BufferPool(COALESCE, 4)), consume(inflate)])
    }
    reader.end()
    if (hash && expected) {
      const actual = `${expected.algorithm}:${hash.digest('hex')}`
      if (actual !== o.expectedUncompressedDigest) {
        throw new ArchiveFormatError(
          `uncompressed layer digest mismatch: expected ${o.expectedUncompressedDigest}, got ${actual}`,
        )
      }
    }
    if (lstatOrUndefined(target) === undefined) {
      renameSync(staging, target)
    } else {
      // an I/O error from here on leaves dest partly merged: nothing else can undo a rename
      mergeInto(staging, target)
      rmSync(staging, { recursive: true, force: true })
    }
    releaseStaging(staging)
    restoreDirectoryMtimes(target, writer.directoryMtimes)
    restoreDirectoryModes(target, writer.directoryModes)
    return { files: writer.files, uncompressedSize: reader.bytes }
  } catch (error) {
    writer?.close()
    source.destroy()
    inflating?.destroy()
    inflater?.close()
    const leftover = createdParent ?? staging
    if (leftover) rmSync(leftover, { recursive: true, force: true })
    if (staging) releaseStaging(staging)
    throw error
  }
}

const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 }

// the OCI digest grammar's registered algorithms; anything else cannot be checked, so is refused
function parseDigest(digest: string): { algorithm: string } {
  const [algorithm = '', hex = ''] = digest.split(':')
  if (DIGEST_HEX_LENGTH[algorithm] !== hex.length || !/^[0-9a-f]+$/.test(hex)) {
    throw new ArchiveFormatError(`cannot verify the uncompressed digest ${JSON.stringify(digest)}`)
  }
  return { algorithm }
}

// An existing dest may be a symlink to a directory the user chose: follow it, so the staging folder
// sits next to the real directory and the final moves stay on one filesystem.
function resolveDestination(dest: string): string {
  const absolute = path.resolve(dest)
  const stat = lstatOrUndefined(absolute)
  if (stat === undefined) return absolute
  const real = realpathSync(absolute)
  if (!statSync(real).isDirectory()) throw new Error(`destination exists and is not a directory: ${dest}`)
  return real
}

// Directories were created writable so their contents could go in; the few whose archive mode
// takes owner access away get it now, deepest first, masked by the umask they were created under.
function restoreDirectoryModes(root: string, modes: Map<string, number>): void {
  const deepestFirst = [...modes.keys()].sort((a, b) => b.split('/').length - a.split('/').length)
  for (const relative of deepestFirst) {
    const directory = path.join(root, relative)
    chmodSync(directory, statSync(directory).mode & (modes.get(relative) as number))
  }
}

// Last, since adding an entry to a directory sets its mtime: the merge's renames into an existing
// directory of dest included. Order does not matter among them, as none is written to any more.
function restoreDirectoryMtimes(root: string, mtimes: Map<string, number>): void {
  for (const [relative, mtime] of mtimes) utimesSync(path.join(root, relative), mtime, mtime)
}
