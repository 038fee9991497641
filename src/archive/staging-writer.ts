import {
  closeSync,
  constants,
  futimesSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'
import { ancestorsOf, safeRelativePath } from './entry-path.js'
import { ArchiveEntryError } from './errors.js'
import type { TarEntry, TarEntryHandler } from './tar-reader.js'
import { refuseWindowsNames } from './windows-names.js'

type Kind = 'directory' | 'file' | 'symlink'

// Windows paths take backslashes (and `\\?\` paths only those)
const JOINS = process.platform === 'win32'

// O_EXCL and O_NOFOLLOW: a file is only ever created, never opened through whatever sits there
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

// Writes the entries of one archive into a fresh staging folder that only we write to, checking
// each entry against what the archive itself has put there so far: the map below is the truth
// about the staging tree, so no check depends on the filesystem's answer to a race.
// Synchronous writes, as GNU tar does: a thread-pool round trip per open/write/close costs more
// than the syscall, and gunzip keeps running on the pool meanwhile.
// Files get the extraction time as mtime unless restoreMtimes: a pushed layer's is a fixed value
// chosen for reproducibility, and build tools comparing mtimes must see pulled files as new; a
// cache holds real mtimes, which build tools compare with their own records (as actions/cache).
export class StagingWriter implements TarEntryHandler {
  readonly #root: string
  readonly #stripPrefix: string | undefined
  readonly #restoreMtimes: boolean
  readonly #kinds = new Map<string, Kind>()
  // on a case-insensitive file system: each path as folded -> the spelling the archive used first
  readonly #spellings: Map<string, string> | undefined
  readonly #windowsNames: boolean
  // directories whose archive mode lacks owner rwx: applied once everything is in place
  readonly directoryModes = new Map<string, number>()
  // with restoreMtimes, each directory's archive mtime: applied once nothing more goes into it
  readonly directoryMtimes = new Map<string, number>()
  #fd: number | undefined
  #mtime: number | undefined
  #current = ''
  // the folder of the last entry, with every ancestor checked and a directory of ours ('' the root)
  #lastParent = ''
  files = 0

  constructor(
    root: string,
    o: {
      stripPrefix?: string
      restoreMtimes?: boolean
      caseInsensitive?: boolean
      windowsNames?: boolean
    } = {},
  ) {
    this.#root = root
    this.#stripPrefix = o.stripPrefix
    this.#restoreMtimes = o.restoreMtimes ?? false
    this.#spellings = (o.caseInsensitive ?? caseInsensitiveByDefault()) ? new Map() : undefined
    this.#windowsNames = o.windowsNames ?? process.platform === 'win32'
  }

  // A name the filesystem refuses (too long, say) fails naming the entry as the archive spells it,
  // not the staging path it would have had (found by reasoning over the fuzz target's property:
  // only our archive errors may escape extraction).
  entry(entry: TarEntry): void {
    try {
      this.#entry(entry)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (error instanceof ArchiveEntryError || code === undefined) throw error
      const reason = (error as Error).message.replace(/,.*$/s, '')
      throw new ArchiveEntryError(entry.path, `the filesystem refused it (${reason})`, { cause: error })
    }
  }

  #entry(entry: TarEntry): void {
    const relative = safeRelativePath(entry.path, this.#stripPrefix)
    if (relative === undefined) {
      if (entry.kind !== 'directory')
        throw new ArchiveEntryError(entry.path, 'only a directory may stand for the root')
      return
    }
    this.#current = entry.path
    // before anything of this entry is written: the staging folder is removed, dest untouched
    if (this.#windowsNames) refuseWindowsNames(entry.path, relative)
    this.#checkSpelling(entry.path, relative)
    this.#makeParents(entry.path, relative)
    const target = this.#path(relative)
    const mode = entry.mode & 0o777
    const mtime = this.#restoreMtimes ? entry.mtime : undefined
    if (entry.kind === 'directory') {
      if (this.#kinds.get(relative) !== 'directory') {
        this.#clear(entry.path, relative, target)
        mkdirSync(target, { mode: mode | 0o700 })
        this.#kinds.set(relative, 'directory')
      }
      if (mtime !== undefined) this.directoryMtimes.set(relative, mtime)
      return this.#rememberMode(relative, mode)
    }
    this.#clear(entry.path, relative, target)
    this.files++
    switch (entry.kind) {
      case 'file':
        this.#fd = openSync(target, CREATE_FLAGS, mode)
        this.#mtime = mtime
        this.#kinds.set(relative, 'file')
        return
      case 'symlink':
        // a symlink may point anywhere: it is never followed while extracting or merging
        makeSymlink(entry.path, entry.linkpath as string, target)
        // the link's own times (lutimes does not follow it)
        if (mtime !== undefined) lutimesSync(target, mtime, mtime)
        this.#kinds.set(relative, 'symlink')
        return
      case 'hardlink': {
        const linked = this.#linkTarget(entry.path, entry.linkpath as string)
        if (linked === undefined || this.#kinds.get(linked) !== 'file') {
          throw new ArchiveEntryError(
            entry.path,
            `a hard link must point to an earlier file of the archive, not "${entry.linkpath}"`,
          )
        }
        linkSync(path.join(this.#root, linked), target)
        this.#kinds.set(relative, 'file')
        return
      }
    }
  }

  data(chunk: Buffer): void {
    if (this.#fd === undefined) return
    let at = 0
    while (at < chunk.length) at += writeSync(this.#fd, chunk, at, chunk.length - at)
  }

  endEntry(): void {
    if (this.#fd === undefined) return
    const fd = this.#fd
    this.#fd = undefined
    // after the last write, which would set it to now; a hard link to this file shares it
    if (this.#mtime !== undefined) futimesSync(fd, this.#mtime, this.#mtime)
    closeSync(fd)
  }

  // `relative` is safeRelativePath's: already `/`-separated with no `.`, `..` or empty part, so on
  // POSIX a join is a concatenation (path.join was 1% of a many-file restore's main thread)
  #path(relative: string): string {
    return JOINS ? path.join(this.#root, relative) : `${this.#root}/${relative}`
  }

  // after an error: the staging folder is about to be removed, but not with a file still open
  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  // a hard link's target is an archive path too, with the same rules; the error names the link
  #linkTarget(raw: string, linkpath: string): string | undefined {
    try {
      return safeRelativePath(linkpath, this.#stripPrefix)
    } catch (error) {
      const reason = error instanceof ArchiveEntryError ? error.message : String(error)
      throw new ArchiveEntryError(raw, `hard link target refused: ${reason}`, { cause: error })
    }
  }

  // An archive lists a folder's files one after another: once a parent and its ancestors are our
  // directories they stay so (a directory is never replaced), and their spellings were checked.
  #makeParents(raw: string, relative: string): void {
    const parent = relative.slice(0, Math.max(0, relative.lastIndexOf('/')))
    if (parent === this.#lastParent) return
    for (const ancestor of ancestorsOf(relative)) {
      this.#checkSpelling(raw, ancestor)
      const kind = this.#kinds.get(ancestor)
      if (kind === 'directory') continue
      if (kind === 'symlink')
        throw new ArchiveEntryError(raw, `it would be written through the symlink "${ancestor}"`)
      if (kind === 'file') throw new ArchiveEntryError(raw, `its parent "${ancestor}" is a file`)
      mkdirSync(path.join(this.#root, ancestor), { mode: 0o755 })
      this.#kinds.set(ancestor, 'directory')
    }
    this.#lastParent = parent
  }

  // A later entry of the same path replaces an earlier one (as with GNU tar), except that a
  // directory is never replaced: its contents were earlier entries of this archive.
  #clear(raw: string, relative: string, target: string): void {
    const kind = this.#kinds.get(relative)
    if (kind === undefined) return
    if (kind === 'directory')
      throw new ArchiveEntryError(raw, 'it would replace a directory of the same archive')
    unlinkSync(target)
    this.#kinds.delete(relative)
  }

  // macOS and Windows file systems take `A/x` and `a/x` (or a name in NFC and NFD) for one path,
  // so an archive could plant a symlink `A` and write `a/x` through it while every check here,
  // keyed by spelling, saw two paths: node-tar's CVE-2021-37712. Such a pair is refused.
  #checkSpelling(raw: string, relative: string): void {
    if (!this.#spellings) return
    const folded = foldPath(relative)
    const first = this.#spellings.get(folded)
    if (first === undefined) this.#spellings.set(folded, relative)
    else if (first !== relative) {
      throw new ArchiveEntryError(
        raw,
        `"${relative}" differs from the earlier entry "${first}" only by case or Unicode normalization, ` +
          'and this file system takes them for the same path',
      )
    }
  }

  #rememberMode(relative: string, mode: number): void {
    if ((mode & 0o700) !== 0o700) this.directoryModes.set(relative, mode)
    else this.directoryModes.delete(relative)
  }

  get current(): string {
    return this.#current
  }
}

// APFS and NTFS compare names without case (APFS also without Unicode normalization)
function caseInsensitiveByDefault(): boolean {
  return process.platform === 'darwin' || process.platform === 'win32'
}

export function foldPath(relative: string): string {
  return relative.normalize('NFD').toLowerCase()
}

// Windows lets a process create symlinks only with Developer Mode on or as an administrator
// (GitHub's hosted Windows runners allow it); elsewhere the error would read as a bare EPERM.
function makeSymlink(raw: string, linkpath: string, target: string): void {
  try {
    symlinkSync(linkpath, target)
  } catch (error) {
    if (process.platform !== 'win32' || (error as NodeJS.ErrnoException).code !== 'EPERM') throw error
    throw new ArchiveEntryError(
      raw,
      'Windows refused to create this symlink: turn on Developer Mode or run as administrator',
      { cause: error },
    )
  }
}
