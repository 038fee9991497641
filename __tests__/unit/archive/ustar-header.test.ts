import { describe, expect, it } from '@jest/globals'
import { Header, type HeaderData } from 'tar'
import { encodeUstarHeader, type UstarFields } from '../../../src/archive/ustar-header.js'

// what TarWriter asks node-tar for: uid/gid 0, no user or group names
function nodeTar(f: UstarFields, mtime: number): Buffer {
  const block = Buffer.alloc(512)
  const data: HeaderData = { ...f, uid: 0, gid: 0, uname: '', gname: '', mtime: new Date(mtime * 1000) }
  expect(new Header(data).encode(block, 0)).toBe(false)
  return block
}

function ours(f: UstarFields, mtime: number): Buffer | undefined {
  const block = Buffer.alloc(512)
  return encodeUstarHeader(block, f, mtime) ? block : undefined
}

describe('encodeUstarHeader', () => {
  const cases: [string, UstarFields, number][] = [
    ['a file', { path: 'pkg/lib/index.js', type: 'File', mode: 0o644, size: 2048 }, 1_700_000_000],
    ['an executable at the epoch', { path: 'bin/run', type: 'File', mode: 0o755, size: 0 }, 0],
    ['a directory', { path: 'pkg/lib/', type: 'Directory', mode: 0o755, size: 0 }, 86_400],
    ['a symlink', { path: 'a/link', type: 'SymbolicLink', linkpath: '../b/c', mode: 0o755, size: 0 }, 5],
    ['a hard link', { path: 'a/two', type: 'Link', linkpath: 'a/one', mode: 0o644, size: 0 }, 5],
    ['the largest octal size', { path: 'big', type: 'File', mode: 0o644, size: 0o77777777777 }, 1],
    ['a name of 99 bytes', { path: 'x'.repeat(99), type: 'File', mode: 0o644, size: 1 }, 1],
    ['a fractional mtime', { path: 'f', type: 'File', mode: 0o644, size: 1 }, 1_234_567.891],
  ]
  it.each(cases)('writes %s byte for byte as node-tar does', (_, fields, mtime) => {
    expect(ours(fields, mtime)).toEqual(nodeTar(fields, mtime))
  })

  it.each([
    [
      'a name of 100 bytes (node-tar splits it)',
      { path: 'x'.repeat(100), type: 'File', mode: 0o644, size: 1 },
      1,
    ],
    ['a non-ASCII name', { path: 'caf\u00e9', type: 'File', mode: 0o644, size: 1 }, 1],
    ['a control byte in a name', { path: 'a\nb', type: 'File', mode: 0o644, size: 1 }, 1],
    [
      'a long link target',
      { path: 'l', type: 'SymbolicLink', linkpath: 'y'.repeat(100), mode: 0o755, size: 0 },
      1,
    ],
    ['a size past the octal field', { path: 'huge', type: 'File', mode: 0o644, size: 0o77777777777 + 1 }, 1],
    ['an mtime before the epoch', { path: 'old', type: 'File', mode: 0o644, size: 1 }, -1],
  ] as [string, UstarFields, number][])('leaves %s to node-tar', (_, fields, mtime) => {
    expect(ours(fields, mtime)).toBeUndefined()
  })

  it('writes every number of digits in each octal field as node-tar does', () => {
    // 0, 7, 8, 63, 64, ... each power of 8 and the number before it, up to a limit (node-tar keeps
    // only the permission bits of a mode)
    const numbers = (limit: number) => {
      const list = [0, limit]
      for (let p = 1; p <= limit; p *= 8) list.push(p - 1, p, Math.min(limit, p + 5))
      return list
    }
    for (const mode of numbers(0o7777))
      expect(ours({ path: 'm', type: 'File', mode, size: 0 }, 0)).toEqual(
        nodeTar({ path: 'm', type: 'File', mode, size: 0 }, 0),
      )
    for (const size of numbers(0o77777777777))
      expect(ours({ path: 's', type: 'File', mode: 0o644, size }, size)).toEqual(
        nodeTar({ path: 's', type: 'File', mode: 0o644, size }, size),
      )
  })
})
