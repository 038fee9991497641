import { createCipheriv, createHash } from 'node:crypto'

/**
 * A small seeded generator (mulberry32): the tree's shape and text must be the same on every
 * machine and every run, so two runs of the benchmark compare the same bytes.
 */
export class SeededRandom {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A uniform float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }
}

/**
 * Incompressible bytes from a seed: an AES-256-CTR keystream. A JavaScript generator would take
 * seconds per hundred MiB; the cipher streams at memory speed and is just as deterministic.
 */
export function incompressibleStream(seed: string): (length: number) => Buffer {
  const key = createHash('sha256').update(`bench-binary:${seed}`).digest()
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
  return (length) => cipher.update(Buffer.alloc(length))
}
