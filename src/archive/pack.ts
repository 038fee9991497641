import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { BufferPool } from './buffer-pool.js'
import { createCompressor, type Compressor } from './compressor.js'
import { OutputSink } from './output-sink.js'
import { GZIP_CHUNK_SIZE } from './parallel-gzip.js'
import { TarWriter } from './tar-writer.js'
import { walkEntries, type TreeEntry } from './walk.js'
import type { DigestOptions, PackOptions, PackResult, TarDigest } from './types.js'

export type { Compression, DigestOptions, PackOptions, PackResult, TarDigest } from './types.js'

const EPOCH = new Date(0)
// chunks between two turns of the event loop in digestDirectory: 8 MiB of reading and hashing,
// so a response waits only milliseconds, and a large tree costs few turns
const YIELD_EVERY = 8

// Modes as git records them, so umask and the packing user never change the digest: a file is 0755
// when its owner may execute it, else 0644; directories and symlinks 0755 (a symlink's own mode is
// never used). setuid, setgid, sticky and group/other write bits never travel.
export function normalizedMode({ kind, mode }: TreeEntry): number {
  if (kind !== 'file') return 0o755
  return mode & 0o100 ? 0o755 : 0o644
}

// Packs `dir` into a reproducible tar (sorted entries, fixed mtime, uid/gid 0 without names,
// normalised modes, PAX for long or non-ASCII names, symlinks and in-tree hard links as links),
// compresses it and writes it to `out`, which it ends. Digests and sizes come from the same pass.
export async function packDirectory(dir: string, out: Writable, o: PackOptions): Promise<PackResult> {
  const sink = new OutputSink(out)
  let compressor: Compressor | undefined
  try {
    const pool = new BufferPool(GZIP_CHUNK_SIZE)
    const started = createCompressor(o.compression, o.level, sink, pool)
    compressor = started
    const tar = await writeTar(dir, o, pool, (chunk) => started.write(chunk), o.hashTar ?? true)
    await started.end()
    const { digest, size } = await sink.end()
    return { digest, size, ...tar }
  } catch (error) {
    // the rejection reports the error; `out` is destroyed with it, as pipeline() would (the sink
    // listens for its 'error', so this cannot become an unhandled event)
    out.destroy(error as Error)
    compressor?.close?.()
    throw error
  }
}

// The digest and size of the tar packDirectory would write for the same options, without writing
// or compressing it: one sha256 over the bytes as they are produced, through one reused chunk.
// Cheap enough (a read and a hash, no compression) to tell whether a tree changed since its last push.
// It lets the event loop run every few MiB, so the caller's requests progress meanwhile, and stops
// there with the signal's reason once `o.signal` is aborted.
export async function digestDirectory(dir: string, o: DigestOptions): Promise<TarDigest> {
  const pool = new BufferPool(GZIP_CHUNK_SIZE, 1)
  let chunks = 0
  const tar = await writeTar(
    dir,
    o,
    pool,
    async (chunk) => {
      pool.release(chunk)
      if (++chunks % YIELD_EVERY !== 0) return
      await new Promise((resolve) => setImmediate(resolve))
      o.signal?.throwIfAborted()
    },
    true,
  )
  return { ...tar, uncompressedDigest: tar.uncompressedDigest as string }
}

// Writes the tar of `dir` to `emit` (which owns each chunk, from `pool`), hashing it on the way
// unless `hash` is false.
async function writeTar(
  dir: string,
  o: DigestOptions,
  pool: BufferPool,
  emit: (chunk: Buffer) => Promise<void>,
  hash: boolean,
): Promise<Omit<TarDigest, 'uncompressedDigest'> & { uncompressedDigest: string | undefined }> {
  // each file opened by the walk, once: the writer reads and closes it
  const tree = walkEntries(dir, o, true)
  const uncompressed = hash ? createHash('sha256') : undefined
  let uncompressedSize = 0
  const writer = new TarWriter({
    root: dir,
    prefix: o.prefix,
    mtime: o.mtime ?? EPOCH,
    mode: normalizedMode,
    pool,
    emit: (chunk) => {
      uncompressed?.update(chunk)
      uncompressedSize += chunk.length
      return emit(chunk)
    },
  })
  await writer.writePrefixDirectory()
  let files = 0
  for (const entry of tree) {
    if (entry.kind !== 'directory') files++
    // most entries fit in the current chunk: no await, no turn of the microtask queue
    const written = writer.write(entry)
    if (written) await written
  }
  await writer.end()
  return {
    uncompressedDigest: uncompressed && `sha256:${uncompressed.digest('hex')}`,
    uncompressedSize,
    files,
  }
}

// The caller uploads from the file (and may re-read it for a retry); a failed pack leaves no file.
export async function packDirectoryToFile(dir: string, file: string, o: PackOptions): Promise<PackResult> {
  try {
    return await packDirectory(dir, createWriteStream(file), o)
  } catch (error) {
    await rm(file, { force: true })
    throw error
  }
}

// The uncompressed tar packDirectory would compress, handed to `emit` chunk by chunk (a chunk is
// reused once emit's promise settles: copy what you keep). A chunked cache save cuts and hashes
// these bytes before anything is compressed: only new chunks are.
export async function streamTar(
  dir: string,
  o: DigestOptions,
  emit: (chunk: Buffer) => Promise<void>,
): Promise<{ uncompressedSize: number; files: number }> {
  const pool = new BufferPool(GZIP_CHUNK_SIZE, 4)
  const { uncompressedSize, files } = await writeTar(
    dir,
    o,
    pool,
    async (chunk) => {
      await emit(chunk)
      pool.release(chunk)
    },
    false,
  )
  return { uncompressedSize, files }
}
