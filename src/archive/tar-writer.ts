import { closeSync, openSync, readSync, readlinkSync } from 'node:fs'
import path from 'node:path'
import { Header, Pax, type HeaderData } from 'tar'
import type { BufferPool } from './buffer-pool.js'
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
export class TarWriter {
  readonly #o: TarWriterOptions
  #chunk: Buffer
  #fill = 0
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
    if (this.#o.prefix)
      await this.#header({ path: `${this.#o.prefix}/`, type: 'Directory', mode: 0o755, size: 0 }, undefined)
  }

  async write(entry: TreeEntry): Promise<void> {
    const name = this.#o.prefix ? `${this.#o.prefix}/${entry.relative}` : entry.relative
    const absolute = path.join(this.#o.root, entry.relative)
    const mode = this.#o.mode(entry)
    if (entry.kind === 'directory')
      return this.#header({ path: `${name}/`, type: 'Directory', mode, size: 0 }, entry)
    if (entry.kind === 'symlink') {
      const linkpath = readlinkSync(absolute)
      return this.#header({ path: name, type: 'SymbolicLink', linkpath, mode, size: 0 }, entry)
    }
    if (entry.inode !== undefined) {
      const first = this.#links.get(entry.inode)
      if (first !== undefined)
        return this.#header({ path: name, type: 'Link', linkpath: first, mode, size: 0 }, entry)
      this.#links.set(entry.inode, name)
    }
    await this.#header({ path: name, type: 'File', mode, size: entry.size }, entry)
    await this.#body(absolute, entry.size)
  }

  // two zero blocks end the archive, and nothing after them: Go's archive/tar (ORAS) pads no
  // further, and the uncompressed digest ORAS annotates must be of exactly these bytes
  async end(): Promise<void> {
    await this.#zeros(2 * BLOCK)
    if (this.#fill > 0) await this.#o.emit(this.#chunk.subarray(0, this.#fill))
  }

  #mtimeOf(entry: TreeEntry | undefined): Date {
    if (this.#o.mtime !== 'preserve') return this.#o.mtime
    return entry ? new Date(entry.mtime * 1000) : EPOCH
  }

  async #header(data: HeaderData, entry: TreeEntry | undefined): Promise<void> {
    const mtime = this.#mtimeOf(entry)
    const full: HeaderData = { ...data, uid: 0, gid: 0, uname: '', gname: '', mtime }
    // encode once into a scratch block to learn whether the names need a PAX record first
    const header = new Header(full)
    // one block, zeroed and reused for every header (its bytes are copied out before any await):
    // a fresh one per entry was garbage for every file of the tree
    const block = this.#block.fill(0)
    const needPax = header.encode(block, 0)
    if (needPax) {
      const size = (data.size ?? 0) >= OCTAL_SIZE_LIMIT ? data.size : undefined
      const pax = new Pax({ path: data.path, linkpath: data.linkpath, size, mtime }).encode()
      await this.#append(pax)
    }
    await this.#append(block)
  }

  async #append(bytes: Buffer): Promise<void> {
    let offset = 0
    while (offset < bytes.length) {
      const take = Math.min(bytes.length - offset, this.#chunk.length - this.#fill)
      bytes.copy(this.#chunk, this.#fill, offset, offset + take)
      this.#fill += take
      offset += take
      await this.#flushIfFull()
    }
  }

  async #zeros(length: number): Promise<void> {
    while (length > 0) {
      const take = Math.min(length, this.#chunk.length - this.#fill)
      this.#chunk.fill(0, this.#fill, this.#fill + take)
      this.#fill += take
      length -= take
      await this.#flushIfFull()
    }
  }

  async #body(file: string, size: number): Promise<void> {
    if (size === 0) return
    const fd = openSync(file, 'r')
    try {
      let remaining = size
      while (remaining > 0) {
        const want = Math.min(remaining, this.#chunk.length - this.#fill)
        const read = readSync(fd, this.#chunk, this.#fill, want, null)
        // a file that shrank under us would leave a hole in the archive: refuse rather than pad
        if (read === 0) throw new Error(`${file} shrank while it was being packed (expected ${size} bytes)`)
        this.#fill += read
        remaining -= read
        await this.#flushIfFull()
      }
    } finally {
      closeSync(fd)
    }
    const padding = (BLOCK - (size % BLOCK)) % BLOCK
    await this.#zeros(padding)
  }

  async #flushIfFull(): Promise<void> {
    if (this.#fill < this.#chunk.length) return
    const full = this.#chunk
    this.#chunk = this.#o.pool.get()
    this.#fill = 0
    await this.#o.emit(full)
  }
}
