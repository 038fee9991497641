import { closeSync, openSync, readSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import { Header, Pax, type HeaderData } from 'tar'
import type { BufferPool } from './buffer-pool.js'
import { encodeUstarHeader, type UstarFields } from './ustar-header.js'
import type { TreeEntry } from './walk.js'

const BLOCK = 512
// largest size the octal header field holds (8 GiB - 1): beyond it the size also goes into PAX
const OCTAL_SIZE_LIMIT = 8 ** 11
const EPOCH = new Date(0)

export interface TarWriterOptions {
  // the packed directory, which TreeEntry paths are relative to
  root: string
  prefix?: string
  // every entry's mtime, or 'preserve' for each entry's own (the prefix directory then gets the epoch)
  mtime: Date | 'preserve'
  mode: (entry: TreeEntry) => number
  // receives the tar in chunks of exactly the pool's size (the last may be shorter), and owns them
  emit: (chunk: Buffer) => Promise<void>
  pool: BufferPool
}

// Writes the tar stream of an already sorted tree with node-tar's Header and Pax encoders, reading
// file contents with synchronous reads straight into the outgoing chunk, as GNU tar does: node-tar's
// own Pack pays a thread-pool round trip per open/read/close (BENCHMARKS.md, "Measured choices").
// The event loop has nothing else to do meanwhile: compression runs on the pool.
// Synchronous up to a full chunk: write() returns a promise only when a chunk is ready to go (about
// one file in 500 of a tree of small files), so a file costs no async calls of its own.
export class TarWriter {
  readonly #o: TarWriterOptions
  #chunk: Buffer
  #fill = 0
  // full chunks not yet handed to emit, in order
  readonly #ready: Buffer[] = []
  readonly #block = Buffer.alloc(BLOCK)
  // dev:ino of files with several links -> the archive path of the first one, stored as a file
  readonly #links = new Map<string, string>()

  constructor(o: TarWriterOptions) {
    if (o.pool.size % BLOCK !== 0) throw new Error('the chunk size must be a multiple of 512')
    this.#o = o
    this.#chunk = o.pool.get()
  }

  // ORAS's layers open with the title directory's own entry
  async writePrefixDirectory(): Promise<void> {
    if (!this.#o.prefix) return
    this.#header({ path: `${this.#o.prefix}/`, type: 'Directory', mode: 0o755, size: 0 }, undefined)
    await this.#drain()
  }

  // Undefined when the entry went into the current chunk, else a promise the caller awaits before
  // the next write. An entry with an open `fd` (walkTree's `open`) has it closed here, whatever
  // happens.
  write(entry: TreeEntry): Promise<void> | undefined {
    let fd = entry.fd
    try {
      const name = this.#o.prefix ? `${this.#o.prefix}/${entry.relative}` : entry.relative
      const mode = this.#o.mode(entry)
      if (entry.kind === 'directory') {
        this.#header({ path: `${name}/`, type: 'Directory', mode, size: 0 }, entry)
      } else if (entry.kind === 'symlink') {
        const linkpath = readlinkSync(this.#absolute(entry))
        this.#header({ path: name, type: 'SymbolicLink', linkpath, mode, size: 0 }, entry)
      } else {
        const first = entry.inode === undefined ? undefined : this.#links.get(entry.inode)
        if (first !== undefined) {
          this.#header({ path: name, type: 'Link', linkpath: first, mode, size: 0 }, entry)
        } else {
          if (entry.inode !== undefined) this.#links.set(entry.inode, name)
          this.#header({ path: name, type: 'File', mode, size: entry.size }, entry)
          if (entry.size > 0) {
            const file = this.#absolute(entry)
            fd ??= openSync(file, 'r')
            const remaining = this.#read(fd, file, entry.size, entry.size)
            if (remaining > 0) {
              const open = fd
              fd = undefined
              return this.#bodyRest(open, file, entry.size, remaining)
            }
            this.#zeros(padding(entry.size))
          }
        }
      }
    } finally {
      if (fd !== undefined) closeSync(fd)
    }
    return this.#ready.length > 0 ? this.#drain() : undefined
  }

  // two zero blocks end the archive, and nothing after them: Go's archive/tar (ORAS) pads no
  // further, and the uncompressed digest ORAS annotates must be of exactly these bytes
  async end(): Promise<void> {
    this.#zeros(2 * BLOCK)
    await this.#drain()
    if (this.#fill > 0) await this.#o.emit(this.#chunk.subarray(0, this.#fill))
  }

  #absolute(entry: TreeEntry): string {
    return entry.absolute ?? path.join(this.#o.root, entry.relative)
  }

  #mtimeOf(entry: TreeEntry | undefined): Date {
    if (this.#o.mtime !== 'preserve') return this.#o.mtime
    return entry ? new Date(entry.mtime * 1000) : EPOCH
  }

  #header(data: HeaderData & UstarFields, entry: TreeEntry | undefined): void {
    const seconds = this.#o.mtime === 'preserve' ? (entry?.mtime ?? 0) : this.#o.mtime.getTime() / 1000
    // the reused block's bytes are copied out by #append at once
    if (encodeUstarHeader(this.#block.fill(0), data, seconds)) return this.#append(this.#block)
    const mtime = this.#mtimeOf(entry)
    const full: HeaderData = { ...data, uid: 0, gid: 0, uname: '', gname: '', mtime }
    // encode once into a scratch block to learn whether the names need a PAX record first
    const header = new Header(full)
    // one block, zeroed and reused for every header (its bytes are copied out at once): a fresh
    // one per entry was garbage for every file of the tree
    const block = this.#block.fill(0)
    const needPax = header.encode(block, 0)
    if (needPax) {
      const size = (data.size ?? 0) >= OCTAL_SIZE_LIMIT ? data.size : undefined
      const pax = new Pax({ path: data.path, linkpath: data.linkpath, size, mtime }).encode()
      this.#append(pax)
    }
    this.#append(block)
  }

  #append(bytes: Buffer): void {
    let offset = 0
    while (offset < bytes.length) {
      const take = Math.min(bytes.length - offset, this.#chunk.length - this.#fill)
      bytes.copy(this.#chunk, this.#fill, offset, offset + take)
      this.#fill += take
      offset += take
      this.#keepIfFull()
    }
  }

  #zeros(length: number): void {
    while (length > 0) {
      const take = Math.min(length, this.#chunk.length - this.#fill)
      this.#chunk.fill(0, this.#fill, this.#fill + take)
      this.#fill += take
      length -= take
      this.#keepIfFull()
    }
  }

  // Reads `remaining` of the file's `size` bytes into the chunk until they are all there or the
  // chunk is full (at most one chunk waits in #ready then); returns what is left to read.
  #read(fd: number, file: string, size: number, remaining: number): number {
    while (remaining > 0 && this.#ready.length === 0) {
      const want = Math.min(remaining, this.#chunk.length - this.#fill)
      const read = readSync(fd, this.#chunk, this.#fill, want, null)
      // a file that shrank under us would leave a hole in the archive: refuse rather than pad
      if (read === 0) throw new Error(`${file} shrank while it was being packed (expected ${size} bytes)`)
      this.#fill += read
      remaining -= read
      this.#keepIfFull()
    }
    return remaining
  }

  // a file larger than what is left of the chunk: its full chunks go out as they fill
  async #bodyRest(fd: number, file: string, size: number, remaining: number): Promise<void> {
    try {
      while (remaining > 0) {
        await this.#drain()
        remaining = this.#read(fd, file, size, remaining)
      }
    } finally {
      closeSync(fd)
    }
    this.#zeros(padding(size))
    await this.#drain()
  }

  #keepIfFull(): void {
    if (this.#fill < this.#chunk.length) return
    this.#ready.push(this.#chunk)
    this.#chunk = this.#o.pool.get()
    this.#fill = 0
  }

  async #drain(): Promise<void> {
    while (this.#ready.length > 0) await this.#o.emit(this.#ready.shift() as Buffer)
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK
}
