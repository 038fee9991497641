import { createHash } from 'node:crypto'
import { BufferPool } from './buffer-pool.js'

/**
 * Content-defined chunking (FastCDC, Xia et al., USENIX ATC 2016): a cut falls where a gear hash
 * of the last 32 bytes has its top bits zero, so cuts depend on nearby content only and an
 * insertion moves no cut after the chunk it lands in. Normalized chunking (level 2): a stricter
 * mask before the average size and a looser one after it keep chunk sizes near the average; the
 * first `min` bytes of a chunk are not hashed at all (they cannot hold a cut), a quarter of the work.
 */
export interface ChunkSizes {
  min: number
  avg: number
  max: number
}

// Size class k: average 1 MiB << k, min a quarter of it, max four times. Class 0 serves trees up
// to 4 GiB in about 4,096 chunks; see src/cache/chunks/chunk-map.ts for how a class is chosen.
export function chunkSizes(sizeClass: number): ChunkSizes {
  const avg = 1 << (20 + sizeClass)
  return { min: avg / 4, avg, max: avg * 4 }
}

export const MAX_SIZE_CLASS = 7

// The gear table: 256 fixed pseudo-random 32-bit values. Derived from sha256 of a fixed label, so
// it is the same in every version and every saver cuts the same bytes at the same places; changing
// it would change every cut (and so every chunk) and needs a new format name in the chunk map.
const GEAR = (() => {
  const table = new Int32Array(256)
  for (let i = 0; i < 256; i += 8) {
    const block = createHash('sha256')
      .update(`oci-artifact-action gear ${i / 8}`)
      .digest()
    for (let j = 0; j < 8; j++) table[i + j] = block.readInt32LE(j * 4)
  }
  return table
})()

// The top `bits` bits of the 32-bit hash: those depend on the most bytes of the window.
function topMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0
}

// The hash where the last gearScan stopped without a cut (a module variable, not a returned
// object: the loop is the whole cost of chunking).
let scanHash = 0

// The tight loop, a plain function over locals: one table lookup, a shift, an add and a test per
// byte. As a class method reading and writing a private field it ran at a fifth of the speed.
function gearScan(data: Buffer, from: number, to: number, mask: number, hash: number): number {
  const gear = GEAR
  let h = hash
  for (let i = from; i < to; i++) {
    h = ((h << 1) + (gear[data[i] as number] as number)) | 0
    if ((h & mask) === 0) return i + 1
  }
  scanHash = h
  return -1
}

/**
 * Cuts a byte stream into chunks. write() copies the bytes into the chunk being filled and calls
 * `emit` with each finished chunk (a buffer from `pool`, which `emit` owns: release it to the pool
 * once done); end() emits the last. The cuts depend only on the bytes, never on how they arrive.
 */
export class Chunker {
  readonly #min: number
  readonly #avg: number
  readonly #max: number
  readonly #maskS: number
  readonly #maskL: number
  readonly #emit: (chunk: Buffer) => Promise<void>
  readonly pool: BufferPool
  #chunk: Buffer
  #fill = 0
  #hash = 0

  constructor(sizes: ChunkSizes, emit: (chunk: Buffer) => Promise<void>, pool?: BufferPool) {
    this.#min = sizes.min
    this.#avg = sizes.avg
    this.#max = sizes.max
    const bits = Math.round(Math.log2(sizes.avg))
    this.#maskS = topMask(bits + 2)
    this.#maskL = topMask(bits - 2)
    this.#emit = emit
    this.pool = pool ?? new BufferPool(sizes.max, 8)
    this.#chunk = this.pool.get()
  }

  async write(data: Buffer): Promise<void> {
    let at = 0
    while (at < data.length) {
      at = this.#take(data, at)
      if (this.#fill === this.#max || this.#cutFound) await this.#flush()
    }
  }

  #cutFound = false

  // Synchronous, so the scan is not compiled inside an async function (which ran it at a quarter
  // of the speed): copies bytes of `data` from `at` into the chunk up to the next cut (or the
  // chunk's end) and returns where it stopped.
  #take(data: Buffer, at: number): number {
    this.#cutFound = false
    if (this.#fill < this.#min) {
      // below the minimum nothing can cut: copy without hashing
      const take = Math.min(this.#min - this.#fill, data.length - at)
      data.copy(this.#chunk, this.#fill, at, at + take)
      this.#fill += take
      return at + take
    }
    const strict = this.#fill < this.#avg
    const room = (strict ? this.#avg : this.#max) - this.#fill
    const end = at + Math.min(room, data.length - at)
    const cut = gearScan(data, at, end, strict ? this.#maskS : this.#maskL, this.#hash)
    this.#hash = cut < 0 ? scanHash : 0
    const upTo = cut < 0 ? end : cut
    data.copy(this.#chunk, this.#fill, at, upTo)
    this.#fill += upTo - at
    this.#cutFound = cut >= 0
    return upTo
  }

  async end(): Promise<void> {
    if (this.#fill > 0) await this.#flush()
    else this.pool.release(this.#chunk)
  }

  async #flush(): Promise<void> {
    const chunk = this.#chunk.subarray(0, this.#fill)
    this.#chunk = this.pool.get()
    this.#fill = 0
    this.#hash = 0
    await this.#emit(chunk)
  }
}
