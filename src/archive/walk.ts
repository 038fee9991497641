import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, type Stats } from 'node:fs'
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
  // the path to open, when the walk knows it (else the root joined with `relative`)
  absolute?: string
  // a regular file already open for reading (walkTree's `open`): whoever takes the entry closes it
  fd?: number
}

export interface TreeFilter {
  // `.git` holds the job's token after actions/checkout
  includeGit: boolean
  // names starting with `.` below the root (upload-artifact leaves them out since v4.4)
  includeHidden: boolean
}

const SLASH = 0x2f

// UTF-8 byte order without encoding: code point order, which is UTF-16 code unit order except
// that a surrogate (half of a code point above U+FFFF) sorts after every other unit. Encoding both
// names for every comparison made n log n small buffers.
// With `separator`, a `/` sorts before everything: paths then compare component by component.
function byteOrder(a: string, b: string, separator = false): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    if (separator && (x === SLASH || y === SLASH)) return x === SLASH ? -1 : 1
    const xSurrogate = x >= 0xd800 && x <= 0xdfff
    const ySurrogate = y >= 0xd800 && y <= 0xdfff
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

// Walks the tree depth first, each directory's children in bytewise (UTF-8) order of their names,
// so a directory comes right before its contents and the order never depends on the filesystem
// (GNU tar's --sort=name gives the same order). Sockets, FIFOs and devices are left out: they
// cannot be restored anywhere else. A `.git` entry (directory, or a submodule's file) is left out
// at any depth unless includeGit; so are hidden names unless includeHidden. Synchronous on purpose:
// a thread-pool round trip per lstat costs more than the lstat itself. Lazy, so memory is the open
// directories' names, not the tree, whose list V8 would keep for the whole push.
// With `open`, a name the directory lists as a regular file is opened (never following a link,
// never waiting on a FIFO put there meanwhile) and its fd's stat taken instead of lstat's: one
// lookup of the path instead of two, for the consumer that reads every file (the tar writer),
// which must close each entry's fd.
export function* walkTree(root: string, filter: TreeFilter, open = false): Generator<TreeEntry> {
  if (!lstatSync(root).isDirectory()) throw new Error(`not a directory: ${root}`)
  yield* visit(path.join(root), '', filter, open && OPEN_FLAGS !== undefined)
}

// POSIX only: Windows has no O_NOFOLLOW
const OPEN_FLAGS =
  constants.O_NOFOLLOW === undefined || constants.O_NONBLOCK === undefined
    ? undefined
    : constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK

function listed(name: string, filter: TreeFilter): boolean {
  // `.git` answers to includeGit alone, hidden or not (README: "whatever else is set")
  return name === '.git' ? filter.includeGit : filter.includeHidden || !name.startsWith('.')
}

function* visit(
  dirAbsolute: string,
  dirRelative: string,
  filter: TreeFilter,
  open: boolean,
): Generator<TreeEntry> {
  const prefix = dirAbsolute.endsWith(path.sep) ? dirAbsolute : `${dirAbsolute}${path.sep}`
  const children = readdirSync(dirAbsolute, { withFileTypes: true })
    .filter((child) => listed(child.name, filter))
    .sort((a, b) => byteOrder(a.name, b.name))
  for (const child of children) {
    const absolute = prefix + child.name
    const relative = dirRelative === '' ? child.name : `${dirRelative}/${child.name}`
    const entry =
      open && child.isFile() ? openedFile(relative, absolute) : entryOf(relative, lstatSync(absolute))
    if (entry === undefined) continue
    entry.absolute = absolute
    yield entry
    if (entry.kind === 'directory') yield* visit(absolute, relative, filter, open)
  }
}

// The entry of a name listed as a regular file, open when it still is one; else what lstat says
// (replaced meanwhile, or not openable: the writer's own open then fails as it would have).
function openedFile(relative: string, absolute: string): TreeEntry | undefined {
  let fd: number
  try {
    fd = openSync(absolute, OPEN_FLAGS as number)
  } catch {
    return entryOf(relative, lstatSync(absolute))
  }
  try {
    const entry = entryOf(relative, fstatSync(fd))
    if (entry?.kind === 'file') {
      entry.fd = fd
      return entry
    }
  } catch (error) {
    closeSync(fd)
    throw error
  }
  closeSync(fd)
  return entryOf(relative, lstatSync(absolute))
}

function entryOf(relative: string, stat: Stats): TreeEntry | undefined {
  const kind = stat.isFile()
    ? 'file'
    : stat.isDirectory()
      ? 'directory'
      : stat.isSymbolicLink()
        ? 'symlink'
        : undefined
  if (kind === undefined) return undefined
  const entry: TreeEntry = {
    relative,
    kind,
    mode: stat.mode,
    size: kind === 'file' ? stat.size : 0,
    mtime: Math.floor(stat.mtimeMs / 1000),
  }
  if (kind === 'file' && stat.nlink > 1) entry.inode = `${stat.dev}:${stat.ino}`
  return entry
}

// The entries a selection names (paths relative to root, as a glob matched them, descendants
// listed by the caller), plus the directories between root and each, in walkTree's order, so a
// selection of a whole tree packs to the same bytes as the tree. Nothing is walked: a directory
// brings only the entries the selection lists below it. `.git` is left out at any depth unless
// includeGit; hidden names are the caller's to filter (it knows which names the user wrote).
export function* walkSelection(root: string, select: string[], includeGit: boolean): Generator<TreeEntry> {
  const wanted = new Set<string>()
  for (const raw of select) {
    const parts = raw.split(/[\\/]+/).filter((part) => part !== '' && part !== '.')
    if (parts.includes('..')) throw new Error(`selected path ${raw} is outside ${root}`)
    if (parts.length === 0 || (!includeGit && parts.includes('.git'))) continue
    const joined = parts.join('/')
    // each leading folder as a prefix of the one joined string
    for (let at = joined.indexOf('/'); at !== -1; at = joined.indexOf('/', at + 1)) {
      wanted.add(joined.slice(0, at))
    }
    wanted.add(joined)
  }
  // each lstat as the pack gets there, as walkTree does: not a Stats per path held at once
  for (const relative of [...wanted].sort(treeOrder)) {
    const entry = entryOf(relative, lstatSync(path.join(root, relative)))
    if (entry) yield entry
  }
}

// What a pack of `dir` with these options holds, in its order: the selection, else the tree.
// With `open`, a whole tree's regular files come open (see walkTree): the caller closes each fd.
export function walkEntries(
  dir: string,
  o: { select?: string[]; includeGit?: boolean; includeHidden?: boolean },
  open = false,
): Generator<TreeEntry> {
  const includeGit = o.includeGit ?? false
  return o.select
    ? walkSelection(dir, o.select, includeGit)
    : walkTree(dir, { includeGit, includeHidden: o.includeHidden ?? true }, open)
}

// depth first with each directory's children in bytewise order: component by component, without
// splitting (a split per comparison is garbage n log n times)
function treeOrder(a: string, b: string): number {
  return byteOrder(a, b, true)
}
