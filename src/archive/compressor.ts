import { availableParallelism } from 'node:os'
import { ParallelGzip } from './parallel-gzip.js'
import { ParallelZstd } from './parallel-zstd.js'
import type { BufferPool } from './buffer-pool.js'
import type { OutputSink } from './output-sink.js'
import type { Compression } from './types.js'

export interface Compressor {
  write(chunk: Buffer): Promise<void>
  end(): Promise<void>
  // frees what the compressor holds when the pack fails before end()
  close?(): void
}

export const DEFAULT_LEVEL: Record<Compression, number> = { gzip: 6, zstd: 3, none: 0 }

// `pool` is where the TarWriter's chunks come from: the gzip and zstd compressors hand them back
// for reuse.
export function createCompressor(
  compression: Compression,
  level: number | undefined,
  sink: OutputSink,
  pool: BufferPool,
): Compressor {
  const cores = availableParallelism()
  switch (compression) {
    case 'gzip':
      // one more chunk in flight than there are cores keeps the pool busy while the main thread
      // reads and hashes the next chunk; the pool's other threads stay free for file reads
      return new ParallelGzip(
        level ?? DEFAULT_LEVEL.gzip,
        cores + 1,
        (bytes, onWritten) => sink.write(bytes, onWritten),
        pool,
      )
    case 'zstd':
      // independent frames on the pool, as for gzip: see ParallelZstd for why not zstd's threads.
      // One 4 MiB frame per core: more in flight was no faster and took more memory.
      return new ParallelZstd(level ?? DEFAULT_LEVEL.zstd, cores, (bytes) => sink.write(bytes), pool)
    case 'none':
      return { write: (chunk) => sink.write(chunk), end: async () => {} }
  }
}
