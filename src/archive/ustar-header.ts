// The ustar header of the common entry, encoded byte for byte as node-tar's Header.encode writes
// it, without its per-entry objects (a Header, a Date, a copy of the fields): for a tree of many
// small files those were most of the packing's JavaScript and its garbage. Only for what needs no
// PAX record and no base-256 number; anything else returns false and goes to node-tar.

const TYPE_CODE = { File: 0x30, Link: 0x31, SymbolicLink: 0x32, Directory: 0x35 } as const
export type UstarType = keyof typeof TYPE_CODE

// the largest values node-tar writes as octal in a field of 8 and 12 bytes
const MAX_OCTAL_8 = 0o7777777
const MAX_OCTAL_12 = 0o77777777777
// printable ASCII only: a name with anything else (UTF-8, control bytes) takes node-tar's path
const PLAIN = /^[\x20-\x7e]*$/

export interface UstarFields {
  path: string
  type: UstarType
  mode: number
  size: number
  linkpath?: string
}

// `block` must be 512 zero bytes; `mtime` in seconds since the epoch. True when the header was
// written, false when it needs node-tar.
export function encodeUstarHeader(block: Buffer, f: UstarFields, mtime: number): boolean {
  // node-tar splits a name of 100 bytes or more into prefix and name: left to it
  if (f.path.length >= 100 || !PLAIN.test(f.path)) return false
  if (f.linkpath !== undefined && (f.linkpath.length >= 100 || !PLAIN.test(f.linkpath))) return false
  if (!(f.mode >= 0 && f.mode <= MAX_OCTAL_8) || !(f.size >= 0 && f.size <= MAX_OCTAL_12)) return false
  if (!(mtime >= 0 && mtime <= MAX_OCTAL_12)) return false
  block.write(f.path, 0, 'latin1')
  octal(block, 100, 8, f.mode)
  octal(block, 108, 8, 0) // uid
  octal(block, 116, 8, 0) // gid
  octal(block, 124, 12, f.size)
  octal(block, 136, 12, mtime)
  block[156] = TYPE_CODE[f.type]
  if (f.linkpath !== undefined) block.write(f.linkpath, 157, 'latin1')
  block.write('ustar\u000000', 257, 'latin1')
  // uname and gname stay empty; devmajor and devminor are 0, as node-tar writes them
  octal(block, 329, 8, 0)
  octal(block, 337, 8, 0)
  let sum = 8 * 0x20
  for (let i = 0; i < 148; i++) sum += block[i] as number
  for (let i = 156; i < 512; i++) sum += block[i] as number
  octal(block, 148, 8, sum)
  return true
}

// node-tar's padding: a number that fills size-1 digits ends in NUL, a shorter one is padded
// with zeros in front and ends in a space and a NUL (the block's zeros). Digit by digit into the
// block: no string per field (seven per header).
function octal(block: Buffer, at: number, size: number, value: number): void {
  let rest = Math.floor(value)
  let digits = 1
  for (let x = rest; x >= 8; x = Math.floor(x / 8)) digits++
  const full = digits === size - 1
  const width = full ? digits : size - 2
  if (!full) block[at + width] = 0x20
  for (let i = width - 1; i >= 0; i--) {
    block[at + i] = 0x30 + (rest % 8)
    rest = Math.floor(rest / 8)
  }
}
