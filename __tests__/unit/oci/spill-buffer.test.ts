import { describe, expect, it } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Duplex, PassThrough, type Readable, type Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpillBuffer } from '../../../src/oci/upload/spill-buffer.js'

const KiB = 1024
const folder = () => mkdtempSync(path.join(tmpdir(), 'spill-test-'))

// Writes pieces of `data` one after another, each waiting for its callback, as a pack does.
async function writeAll(out: Writable, data: Buffer, piece: (at: number) => number): Promise<void> {
  for (let at = 0; at < data.length;) {
    const end = Math.min(data.length, at + piece(at))
    await new Promise<void>((resolve, reject) =>
      out.write(data.subarray(at, end), (error) => (error ? reject(error) : resolve())),
    )
    at = end
  }
  out.end()
}

// The bytes `out` took (their write callbacks came back) while nothing read them, within `ms`.
async function acceptedUnread(out: Writable, piece: number, ms = 300): Promise<number> {
  let accepted = 0
  for (;;) {
    const written = new Promise<boolean>((resolve) => out.write(randomBytes(piece), () => resolve(true)))
    if (!(await Promise.race([written, sleep(ms).then(() => false)]))) return accepted
    accepted += piece
  }
}

async function readAll(source: AsyncIterable<Buffer>, pause = 0): Promise<Buffer> {
  const pieces: Buffer[] = []
  for await (const chunk of source) {
    pieces.push(chunk)
    if (pause) await sleep(pause)
  }
  return Buffer.concat(pieces)
}

// Its 'close', promised before anything is read. The reader's end destroys the buffer at once
// (autoDestroy, and the iterator's return), so its files go and 'close' comes while a reader that
// lingers on the last piece has not yet left its loop: a listener added after that loop may wait
// for a 'close' that has already come (the first test hung so, now and then, under load).
function closed(stream: Duplex): Promise<void> {
  return stream.closed ? Promise.resolve() : once(stream, 'close').then(() => undefined)
}

// A reader that asks for `size` bytes at a time with read(size), as a paused stream is read.
function readBySize(source: Readable, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pieces: Buffer[] = []
    source.on('readable', () => {
      for (let piece: Buffer | null; (piece = source.read(size) as Buffer | null) !== null;)
        pieces.push(piece)
    })
    source.on('end', () => resolve(Buffer.concat(pieces)))
    source.on('error', reject)
  })
}

// A promise that rejects after `ms`: a stall fails as a stall, not as the test's timeout.
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  return Promise.race([
    work,
    sleep(ms, undefined, { ref: false }).then(() => Promise.reject(new Error(`stalled for ${ms} ms`))),
  ])
}

describe('SpillBuffer, between a pack and its upload', () => {
  it('passes every byte in order to a reader slower than its writer, through memory and files', async () => {
    const dir = folder()
    const buffer = new SpillBuffer({ dir, memory: 64 * KiB, disk: 64 * 1024 * KiB, segment: 256 * KiB })
    const data = randomBytes(3 * 1024 * KiB + 17)
    // pieces of varying size, some larger than the memory bound
    const sizes = [1, 1000, 70 * KiB, 13 * KiB, 200 * KiB]
    const gone = closed(buffer)
    const [, received] = await within(
      20_000,
      Promise.all([writeAll(buffer, data, (at) => sizes[at % sizes.length] as number), readAll(buffer, 1)]),
    )
    expect(received.equals(data)).toBe(true)
    // later still: 'close' has most likely come by now, and the promise taken before has it
    await sleep(50)
    await within(10_000, gone)
    // each file went once read to its end, the last with the folder
    expect(readdirSync(dir)).toEqual([])
  }, 40_000)

  it('answers a reader that asks for more than its memory, through memory and files alike', async () => {
    // read(size) past the high-water mark raises the mark, so Node asks (_read) while `memory`
    // bytes or more wait, and asks once until something is pushed: an ask not answered then
    // left the reader waiting for bytes and the writer for room, for ever
    const memory = 16 * KiB
    for (const dir of [folder(), path.join(folder(), 'not-there')]) {
      const buffer = new SpillBuffer({ dir, memory, disk: 1024 * KiB, segment: 64 * KiB })
      const data = randomBytes(256 * KiB + 5)
      const [, received] = await within(
        10_000,
        Promise.all([writeAll(buffer, data, () => 10 * KiB), readBySize(buffer, 4 * memory)]),
      )
      expect(received.equals(data)).toBe(true)
    }
  })

  it('takes bytes far beyond its memory while its reader takes none, up to its disk bound', async () => {
    const memory = 64 * KiB
    const disk = 1024 * KiB
    const buffer = new SpillBuffer({ dir: folder(), memory, disk, segment: 256 * KiB })
    const accepted = await acceptedUnread(buffer, 32 * KiB)
    expect(accepted).toBeGreaterThanOrEqual(disk)
    // then the writer waits: memory on both sides, and the batch that crossed the bound
    expect(accepted).toBeLessThanOrEqual(disk + 3 * memory + 32 * KiB)
    // what a PassThrough of the same memory lets a writer run ahead
    const plain = await acceptedUnread(new PassThrough({ highWaterMark: memory }), 32 * KiB)
    expect(plain).toBeLessThanOrEqual(2 * memory + 32 * KiB)
    buffer.destroy()
  })

  it('goes on as a buffer of its memory alone when its folder cannot hold files', async () => {
    const memory = 64 * KiB
    const missing = path.join(folder(), 'not-there')
    const buffer = new SpillBuffer({ dir: missing, memory, disk: 1024 * KiB })
    const accepted = await acceptedUnread(buffer, 32 * KiB)
    expect(accepted).toBeLessThanOrEqual(2 * memory + 32 * KiB)
    buffer.destroy()

    const data = randomBytes(512 * KiB)
    const again = new SpillBuffer({ dir: missing, memory, disk: 1024 * KiB })
    const [, received] = await Promise.all([writeAll(again, data, () => 48 * KiB), readAll(again, 1)])
    expect(received.equals(data)).toBe(true)
  })

  it('lets a writer reuse its buffer once a write calls back, in memory, on disk and without disk', async () => {
    for (const dir of [folder(), path.join(folder(), 'not-there')]) {
      const buffer = new SpillBuffer({ dir, memory: 64 * KiB, disk: 1024 * KiB, segment: 128 * KiB })
      const data = randomBytes(768 * KiB)
      // one scratch buffer for every write, overwritten as soon as each write has called back
      const scratch = Buffer.alloc(16 * KiB)
      const writing = (async () => {
        for (let at = 0; at < data.length; at += scratch.length) {
          data.copy(scratch, 0, at, at + scratch.length)
          await new Promise<void>((resolve, reject) =>
            buffer.write(scratch, (error) => (error ? reject(error) : resolve())),
          )
          scratch.fill(0xee)
        }
        buffer.end()
      })()
      const [, received] = await Promise.all([writing, readAll(buffer, 1)])
      expect(received.equals(data)).toBe(true)
    }
    expect(new SpillBuffer({ dir: folder(), memory: KiB, disk: KiB }).copiesWrites).toBe(true)
  })

  it('removes its files when it is destroyed before its reader got to them', async () => {
    const dir = folder()
    const buffer = new SpillBuffer({ dir, memory: 64 * KiB, disk: 1024 * KiB, segment: 128 * KiB })
    await acceptedUnread(buffer, 32 * KiB, 100)
    expect(readdirSync(dir)).toHaveLength(1)
    const closed = new Promise((resolve) => buffer.once('close', resolve))
    buffer.on('error', () => {})
    buffer.destroy(new Error('the upload failed'))
    await closed
    expect(readdirSync(dir)).toEqual([])
  })
})
