import { Header, Pax, type HeaderData } from 'tar'
import { ArchiveEntryError, ArchiveFormatError } from './errors.js'

const BLOCK = 512
// PAX records and GNU long names are small; a bigger one is an attack on memory, not a name
const MAX_META_SIZE = 1024 * 1024

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink'

export interface TarEntry {
  path: string
  linkpath?: string
  kind: EntryKind
  mode: number
  size: number
  // seconds since the epoch, fractional when a PAX record says so; undefined when the header has none
  mtime?: number
}

export interface TarEntryHandler {
  entry(entry: TarEntry): void
  data(chunk: Buffer): void
  endEntry(): void
}

const KIND: Record<string, EntryKind> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
}

// A push parser over node-tar's Header and Pax decoders that hands entries to a synchronous
// handler, so the caller decides what is written and backpressure is simply the caller's loop.
// Understands ustar, PAX (x, g) and GNU long names (L, K); every other entry type (devices,
// FIFOs, sparse files, ...) is refused, as is any non-file entry that carries a body, since
// readers disagree on whether to skip it (a classic way to smuggle entries past one of them).
export class TarReader {
  readonly #handler: TarEntryHandler
  #pending: Buffer | undefined
  #state: 'header' | 'body' | 'meta' | 'padding' | 'eof' = 'header'
  #remaining = 0
  #padding = 0
  #meta: Buffer[] = []
  #metaType = ''
  #ex: HeaderData | undefined
  #gex: HeaderData | undefined
  #bytes = 0

  constructor(handler: TarEntryHandler) {
    this.#handler = handler
  }

  get bytes(): number {
    return this.#bytes
  }

  push(chunk: Buffer): void {
    this.#bytes += chunk.length
    let at = 0
    if (this.#pending) {
      // a header cut by a piece's end is completed from the next piece, without copying the rest
      // of that piece (up to 1 MiB) into a new buffer
      const need = BLOCK - this.#pending.length
      if (chunk.length < need) {
        this.#pending = Buffer.concat([this.#pending, chunk])
        return
      }
      const block = Buffer.concat([this.#pending, chunk.subarray(0, need)], BLOCK)
      this.#pending = undefined
      this.#header(block)
      at = need
    }
    while (at < chunk.length) {
      switch (this.#state) {
        case 'eof':
          // GNU tar pads to 10 KiB records after the end blocks; nothing there is read
          return
        case 'header': {
          if (chunk.length - at < BLOCK) {
            this.#pending = Buffer.from(chunk.subarray(at))
            return
          }
          this.#header(chunk.subarray(at, at + BLOCK))
          at += BLOCK
          break
        }
        case 'body':
        case 'meta': {
          const take = Math.min(this.#remaining, chunk.length - at)
          const piece = chunk.subarray(at, at + take)
          if (this.#state === 'body') this.#handler.data(piece)
          else this.#meta.push(Buffer.from(piece))
          this.#remaining -= take
          at += take
          if (this.#remaining === 0) this.#finishBody()
          break
        }
        case 'padding': {
          const take = Math.min(this.#padding, chunk.length - at)
          this.#padding -= take
          at += take
          if (this.#padding === 0) this.#state = 'header'
          break
        }
      }
    }
  }

  end(): void {
    if (this.#state !== 'eof')
      throw new ArchiveFormatError('the archive is truncated: it ends before its end-of-archive block')
  }

  #header(block: Buffer): void {
    if (block.every((byte) => byte === 0)) {
      // the first zero block ends the archive, as for GNU tar; what follows is record padding
      this.#state = 'eof'
      return
    }
    const header =
      (this.#ex === undefined && this.#gex === undefined && plainHeader(block)) || this.#decode(block)
    const name = this.#ex?.path ?? header.path ?? ''
    if (!header.cksumValid)
      throw new ArchiveFormatError(`not a tar archive, or a damaged one (bad header checksum near "${name}")`)
    const size = header.size ?? 0
    const type = header.type
    if (type === 'ExtendedHeader' || type === 'GlobalExtendedHeader' || type.startsWith('NextFileHasLong')) {
      if (size > MAX_META_SIZE) throw new ArchiveEntryError(name, `a ${size}-byte ${type} record is refused`)
      this.#metaType = type
      this.#meta = []
      this.#startBody('meta', size)
      return
    }
    const kind = KIND[type]
    if (kind === undefined) throw new ArchiveEntryError(name, `${type} entries are refused`)
    const entry: TarEntry = {
      path: name,
      kind,
      mode: (header.mode ?? 0o644) & 0o7777,
      size: kind === 'file' ? size : 0,
      mtime:
        typeof header.mtime === 'number'
          ? header.mtime
          : header.mtime
            ? header.mtime.getTime() / 1000
            : undefined,
    }
    if (kind === 'symlink' || kind === 'hardlink') {
      entry.linkpath = this.#ex?.linkpath ?? header.linkpath
      if (!entry.linkpath) throw new ArchiveEntryError(name, `a ${type} without a target`)
    }
    // node-tar reports 0 for a directory whatever its size field says: read the field itself
    if (kind !== 'file' && (size !== 0 || (this.#ex?.size ?? 0) !== 0 || rawSizeField(block) !== 0)) {
      throw new ArchiveEntryError(name, `a ${type} entry with a body is refused`)
    }
    this.#ex = undefined
    this.#handler.entry(entry)
    this.#startBody('body', entry.size)
  }

  // node-tar throws a plain Error for a base-256 number it cannot read (found by fuzzing)
  #decode(block: Buffer): DecodedHeader {
    try {
      return new Header(block, 0, this.#ex, this.#gex)
    } catch (cause) {
      const name = this.#ex?.path ?? block.toString('utf8', 0, 100).replace(/\0.*/s, '')
      throw new ArchiveFormatError(
        `not a tar archive, or a damaged one (a numeric field of the header near "${name}": ${(cause as Error).message})`,
        { cause },
      )
    }
  }

  #startBody(state: 'body' | 'meta', size: number): void {
    this.#padding = (BLOCK - (size % BLOCK)) % BLOCK
    if (size === 0) {
      this.#state = state
      this.#remaining = 0
      this.#finishBody()
      return
    }
    this.#state = state
    this.#remaining = size
  }

  #finishBody(): void {
    if (this.#state === 'body') {
      this.#handler.endEntry()
    } else {
      const body = Buffer.concat(this.#meta)
      this.#meta = []
      const text = body.toString('utf8')
      switch (this.#metaType) {
        case 'ExtendedHeader':
          this.#ex = Pax.parse(text, this.#ex, false)
          break
        case 'GlobalExtendedHeader':
          this.#gex = Pax.parse(text, this.#gex, true)
          break
        case 'NextFileHasLongPath':
          this.#ex = { ...this.#ex, path: text.replace(/\0.*/s, '') }
          break
        case 'NextFileHasLongLinkpath':
          this.#ex = { ...this.#ex, linkpath: text.replace(/\0.*/s, '') }
          break
      }
    }
    this.#state = this.#padding > 0 ? 'padding' : 'header'
  }
}

// What the reader takes from a header: node-tar's Header, or the same fields decoded by plainHeader
interface DecodedHeader {
  path?: string
  linkpath?: string
  type: string
  mode?: number
  size?: number
  // a Date from node-tar, seconds from plainHeader
  mtime?: Date | number
  cksumValid: boolean
}

const PLAIN_TYPES: Record<number, string> = {
  0x30: 'File',
  0x31: 'Link',
  0x32: 'SymbolicLink',
  0x35: 'Directory',
  0x37: 'ContiguousFile',
}
// where the numeric fields start (mode, uid, gid, size, mtime, checksum, devices, atime, ctime)
const NUMBER_FIELDS = [100, 108, 116, 124, 136, 148, 329, 337, 476, 488]
const USTAR_MAGIC = Buffer.from('ustar\u000000', 'latin1')

// The common header (no PAX or GNU record before it, ASCII names, octal numbers, a usual type)
// decoded with no Header object, Date or field copies: node-tar's Header was 0.1 s of the main
// thread's JavaScript for 60,000 entries (BENCHMARKS.md, "Many small files"). Every field comes out
// as node-tar's decode gives it; a header this does not decode exactly so (anything unusual in a
// field it reads, or a base-256 number in one it skips, which node-tar may refuse) returns
// undefined and goes to node-tar.
export function plainHeader(block: Buffer): DecodedHeader | undefined {
  const type = PLAIN_TYPES[block[156] as number]
  if (type === undefined) return undefined
  for (const at of NUMBER_FIELDS) if ((block[at] as number) & 0x80) return undefined
  const mode = octal(block, 100, 8)
  const size = octal(block, 124, 12)
  const mtime = octal(block, 136, 12)
  const cksum = octal(block, 148, 12)
  if (mode === undefined || size === undefined || mtime === undefined || cksum === undefined) return undefined
  let path = asciiField(block, 0, 100)
  const linkpath = asciiField(block, 157, 100)
  if (path === undefined || linkpath === undefined) return undefined
  if (block.compare(USTAR_MAGIC, 0, 8, 257, 265) === 0) {
    // node-tar reads a 155-byte prefix when its last byte is set: left to it
    if (block[475] !== 0) return undefined
    const prefix = asciiField(block, 345, 130)
    if (prefix === undefined) return undefined
    if (prefix !== '') path = `${prefix}/${path}`
  }
  let sum = 8 * 0x20
  for (let i = 0; i < 148; i++) sum += block[i] as number
  for (let i = 156; i < BLOCK; i++) sum += block[i] as number
  const directory = type === 'Directory' || (type === 'File' && path.endsWith('/'))
  return {
    path,
    linkpath,
    type: directory ? 'Directory' : type,
    mode,
    size: directory ? 0 : size,
    mtime,
    cksumValid: sum === cksum,
  }
}

// node-tar's parseInt of the field: leading spaces, then octal digits up to the first other byte
// (the checksum's 12 bytes run into the type and link name, as node-tar reads them); anything else
// leading (another blank, a NUL, nothing) is left to node-tar
function octal(block: Buffer, at: number, length: number): number | undefined {
  const end = at + length
  let i = at
  while (i < end && block[i] === 0x20) i++
  let value = 0
  const start = i
  for (; i < end; i++) {
    const digit = (block[i] as number) - 0x30
    if (digit < 0 || digit > 7) break
    value = value * 8 + digit
  }
  return i === start ? undefined : value
}

// ASCII up to the first NUL with only NULs after it (node-tar's decoding of such a field is the
// same string), else undefined
function asciiField(block: Buffer, at: number, length: number): string | undefined {
  const end = at + length
  let nul = at
  while (nul < end && block[nul] !== 0) {
    if ((block[nul] as number) & 0x80) return undefined
    nul++
  }
  for (let i = nul + 1; i < end; i++) if (block[i] !== 0) return undefined
  return block.toString('latin1', at, nul)
}

// the header's own size field (octal, or base-256 when its first byte has the high bit set)
function rawSizeField(block: Buffer): number {
  const field = block.subarray(124, 136)
  if ((field[0] as number) & 0x80) return 1
  const text = field.toString('ascii').replace(/[\0 ]/g, '')
  return text === '' ? 0 : parseInt(text, 8) || 0
}
