// Test helpers: build a varied tree on disk, and snapshot a tree as comparable data.
import { createHash } from 'node:crypto'
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  linkSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export function tempDir(label = 'archive-'): string {
  return mkdtempSync(path.join(tmpdir(), label))
}

export const LONG_NAME = `${'long-directory-name-'.repeat(6)}/${'a-very-long-file-name-'.repeat(8)}.txt`
export const UNICODE_NAME = 'données/日本語 ✓ ñ.txt'

// Every kind of thing the issue names, created in the order given (so callers can shuffle it).
export function treeSpec(): Array<[string, (root: string) => void]> {
  const file =
    (rel: string, content: string | Buffer, mode = 0o644) =>
    (root: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
      writeFileSync(path.join(root, rel), content)
      chmodSync(path.join(root, rel), mode)
    }
  return [
    ['readme', file('README.md', '# hello\n')],
    ['exec', file('bin/run.sh', '#!/bin/sh\necho run\n', 0o755)],
    ['owner-exec-only', file('bin/private-tool', 'tool', 0o700)],
    ['setuid', file('bin/setuid-tool', 'suid', 0o4755)],
    ['hidden', file('.env.example', 'A=1\n')],
    ['hidden-dir', file('.config/settings.json', '{}\n')],
    ['zero', file('empty-file', '')],
    ['long', file(LONG_NAME, 'long\n')],
    ['unicode', file(UNICODE_NAME, 'unicode\n')],
    ['nested', file('a/b/c/d/e/f/deep.txt', 'deep\n')],
    ['binary', file('data/blob.bin', Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7919) % 251)))],
    ['empty-dir', (root) => mkdirSync(path.join(root, 'empty/nested-empty'), { recursive: true })],
    ['symlink', (root) => symlinkSync('README.md', path.join(root, 'link-to-readme'))],
    ['dir-symlink', (root) => symlinkSync('a/b', path.join(root, 'link-to-dir'))],
    ['dangling', (root) => symlinkSync('does/not/exist', path.join(root, 'dangling'))],
    ['absolute-symlink', (root) => symlinkSync('/etc/hostname', path.join(root, 'absolute-link'))],
  ]
}

export function buildTree(
  root: string,
  order?: (spec: ReturnType<typeof treeSpec>) => ReturnType<typeof treeSpec>,
): string {
  mkdirSync(root, { recursive: true })
  const spec = order ? order(treeSpec()) : treeSpec()
  for (const [, make] of spec) make(root)
  return root
}

export function addHardLink(root: string, existing: string, link: string): void {
  linkSync(path.join(root, existing), path.join(root, link))
}

export interface Snapshot {
  [relative: string]: string
}

// path -> "dir" | "file <exec?> <sha256>" | "symlink -> target"; modes beyond the owner's exec bit
// depend on the umask and are compared separately where they matter
export function snapshot(root: string, relative = ''): Snapshot {
  const out: Snapshot = {}
  for (const name of readdirSync(path.join(root, relative)).sort()) {
    const rel = relative ? `${relative}/${name}` : name
    const abs = path.join(root, rel)
    const stat = lstatSync(abs)
    if (stat.isSymbolicLink()) out[rel] = `symlink -> ${readlinkSync(abs)}`
    else if (stat.isDirectory()) {
      out[rel] = 'dir'
      Object.assign(out, snapshot(root, rel))
    } else {
      const exec = stat.mode & 0o100 ? 'exec' : 'plain'
      out[rel] = `file ${exec} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`
    }
  }
  return out
}
