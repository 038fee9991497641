import { availableParallelism } from 'node:os'
import { once } from 'node:events'
import zlib from 'node:zlib'
import { ParallelGzip } from './parallel-gzip.js'
import type { BufferPool } from './buffer-pool.js'
import type { OutputSink } from './output-sink.js'
import type { Compression } from './types.js'

export interface Compressor {
  write(chunk: Buffer): Promise<void>
  end(): Promise<void>
}

export const DEFAULT_LEVEL: Record<Compression, number> = { gzip: 6, zstd: 3, none: 0 }

// `pool` is where the TarWriter's chunks come from: the gzip compressor hands them back for reuse.
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
      return zstdCompressor(level ?? DEFAULT_LEVEL.zstd, cores, sink)
    case 'none':
      return { write: (chunk) => sink.write(chunk), end: async () => {} }
  }
}

function zstdCompressor(level: number, cores: number, sink: OutputSink): Compressor {
  const zstd = zlib.createZstdCompress({
    params: {
      [zlib.constants.ZSTD_c_compressionLevel]: level,
      // zstd's multithreaded output is the same for any worker count >= 1, so it stays
      // reproducible across runners with different core counts
      [zlib.constants.ZSTD_c_nbWorkers]: Math.max(1, cores),
    },
  })
  const drained = (async () => {
    for await (const chunk of zstd) await sink.write(chunk as Buffer)
  })()
  drained.catch(() => {})
  return {
    async write(chunk) {
      if (!zstd.write(chunk)) await Promise.race([once(zstd, 'drain'), drained])
    },
    async end() {
      zstd.end()
      await drained
    },
  }
}
