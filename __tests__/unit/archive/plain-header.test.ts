import { describe, expect, it } from '@jest/globals'
import { Header, type HeaderData } from 'tar'
import { plainHeader } from '../../../src/archive/tar-reader.js'

// node-tar's decode of the fields the reader uses, in plainHeader's shape
function nodeTar(block: Buffer) {
  const h = new Header(block, 0)
  return {
    path: h.path,
    linkpath: h.linkpath,
    type: h.type,
    mode: h.mode,
    size: h.size,
    mtime: h.mtime === undefined ? undefined : h.mtime.getTime() / 1000,
    cksumValid: h.cksumValid,
  }
}

function encoded(data: HeaderData): Buffer {
  const block = Buffer.alloc(512)
  new Header(data).encode(block, 0)
  return block
}

// a small deterministic generator, so a failure names a seed that reproduces it
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const BYTES = [0, 0x20, 0x30, 0x37, 0x38, 0x2f, 0x2e, 0x0a, 0x41, 0x80, 0xff, 0x5c]

describe('plainHeader', () => {
  const bases: [string, HeaderData][] = [
    ['a file', { path: 'pkg/lib/index.js', type: 'File', mode: 0o644, size: 2048, mtime: new Date(1.7e12) }],
    ['a directory', { path: 'pkg/lib/', type: 'Directory', mode: 0o755, size: 0, mtime: new Date(0) }],
    [
      'a symlink',
      { path: 'a/link', type: 'SymbolicLink', linkpath: '../b', size: 0, mode: 0o777, mtime: new Date(5000) },
    ],
    [
      'a hard link',
      { path: 'a/two', type: 'Link', linkpath: 'a/one', size: 0, mode: 0o644, mtime: new Date(5000) },
    ],
    [
      'a prefixed name',
      {
        path: `${'d'.repeat(60)}/${'e'.repeat(60)}/f`,
        type: 'File',
        mode: 0o600,
        size: 3,
        mtime: new Date(1000),
      },
    ],
  ]

  it.each(bases)('decodes %s as node-tar does', (_, data) => {
    const block = encoded(data)
    expect(plainHeader(block)).toEqual(nodeTar(block))
  })

  it('decodes what it takes exactly as node-tar does, and leaves the rest to it', () => {
    let decoded = 0
    for (let seed = 1; seed <= 20000; seed++) {
      const next = random(seed)
      const block = encoded(bases[seed % bases.length]![1])
      // a few bytes changed anywhere, or in the fields plainHeader reads
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
        const at =
          next() < 0.5
            ? Math.floor(next() * 512)
            : [100, 124, 136, 148, 156, 157, 257, 345, 475][Math.floor(next() * 9)]! + Math.floor(next() * 8)
        block[at] = BYTES[Math.floor(next() * BYTES.length)]!
      }
      let expected: ReturnType<typeof nodeTar> | undefined
      try {
        expected = nodeTar(block)
      } catch {
        expected = undefined
      }
      const ours = plainHeader(block)
      if (ours === undefined) continue
      decoded++
      if (expected === undefined)
        throw new Error(`seed ${seed}: node-tar refused a header plainHeader decoded`)
      expect({ seed, ...ours }).toEqual({ seed, ...expected })
    }
    // most mutated headers stay plain
    expect(decoded).toBeGreaterThan(5000)
  })
})
