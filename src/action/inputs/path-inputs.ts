import { existsSync, lstatSync, readlinkSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError } from './readers.js'

/**
 * The `path` input as upload-artifact and actions/cache read it: one entry per line, each a
 * directory, a file or a glob, relative to the workspace unless absolute, `~` for the home
 * directory, and `!pattern` to leave matches out. parsePathInput is pure: the file system is asked
 * later (collect-paths.ts), so a bad line is refused before any network work.
 */
export interface PathLine {
  /** The line as the user wrote it (trimmed), which is what a cache's key means */
  given: string
  /** Absolute, `~` expanded */
  pattern: string
  /** No glob characters: names one directory or file */
  literal: boolean
  /** The deepest directory (or the path itself, when literal) every match lies under */
  searchRoot: string
  /** How the line was anchored: `~`, the workspace, or an absolute path (a cache restores by it) */
  anchor: 'home' | 'workspace' | 'absolute'
}

export interface PathPatterns {
  /** Every line as written, in order, exclusions included: what a cache's key means */
  lines: string[]
  includes: PathLine[]
  /** Absolute exclusion patterns (the lines' `!` removed) */
  excludes: string[]
}

export interface PathContext {
  workspace: string
  home: string
  /** path.win32 on Windows; tests pass either to check both rules on one machine */
  pathApi?: path.PlatformPath
}

// What @actions/glob (minimatch) reads as a pattern rather than a name.
const GLOB_CHARS = /[*?[\]{}]/

export class PathInputError extends Error {
  constructor(
    readonly line: string,
    reason: string,
  ) {
    super(`'${line}' ${reason}`)
    this.name = 'PathInputError'
  }
}

export function parsePathInput(value: string, context: PathContext): PathPatterns {
  const p = context.pathApi ?? path
  const includes: PathLine[] = []
  const excludes: string[] = []
  const lines: string[] = []
  for (const raw of value.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    lines.push(line)
    if (line.startsWith('!')) {
      const rest = line.slice(1).trim()
      if (!rest) throw new PathInputError(line, 'excludes nothing: write the pattern after the !')
      excludes.push(resolveLine(rest, context, p).pattern)
      continue
    }
    includes.push(resolveLine(line, context, p))
  }
  return { lines, includes, excludes }
}

function resolveLine(line: string, context: PathContext, p: path.PlatformPath): PathLine {
  if (line.includes('\0')) throw new PathInputError(line, 'holds a NUL byte')
  const home = isHomeRelative(line, p)
  const expanded = home ? p.join(context.home, line.slice(1)) : line
  const anchor = home ? 'home' : p.isAbsolute(expanded) ? 'absolute' : 'workspace'
  // a drive-relative `C:dir` on Windows resolves against that drive's current directory, which
  // a runner never sets: refused rather than guessed
  if (p === path.win32 && /^[A-Za-z]:(?![\\/])/.test(expanded)) {
    throw new PathInputError(line, 'names a drive without a root: write C:\\dir, not C:dir')
  }
  const pattern = p.resolve(context.workspace, expanded)
  const literal = !GLOB_CHARS.test(expanded)
  return { given: line, pattern, literal, searchRoot: literal ? pattern : searchRootOf(pattern, p), anchor }
}

/** `~`, `~/x`, and on Windows `~\x`; `~user` is not expanded (neither does actions/cache). */
function isHomeRelative(line: string, p: path.PlatformPath): boolean {
  return line === '~' || line.startsWith('~/') || (p === path.win32 && line.startsWith('~\\'))
}

/** The leading segments of an absolute pattern that hold no glob character. */
export function searchRootOf(pattern: string, p: path.PlatformPath = path): string {
  const { root } = p.parse(pattern)
  const segments = pattern.slice(root.length).split(p === path.win32 ? /[\\/]+/ : /\/+/)
  const kept: string[] = []
  for (const segment of segments) {
    if (GLOB_CHARS.test(segment)) break
    kept.push(segment)
  }
  return p.join(root, ...kept)
}

/** The deepest directory holding every path (all absolute); on Windows compared without case. */
export function commonAncestor(paths: string[], p: path.PlatformPath = path): string {
  const split = (x: string) =>
    p
      .resolve(x)
      .split(p.sep)
      .filter((s, i) => s !== '' || i === 0)
  const same = (a: string, b: string) => (p === path.win32 ? a.toLowerCase() === b.toLowerCase() : a === b)
  let common = split(paths[0] as string)
  for (const other of paths.slice(1)) {
    const parts = split(other)
    let n = 0
    while (n < common.length && n < parts.length && same(common[n] as string, parts[n] as string)) n++
    common = common.slice(0, n)
    // two drives (D:\\x, C:\\y) share no folder, not even a root
    if (n === 0) throw new Error(`${paths[0]} and ${other} have no folder in common (two drives)`)
  }
  const joined = common.join(p.sep)
  // `/` splits to ['']: the root itself; `C:` needs its separator back
  return joined === '' || /^[A-Za-z]:$/.test(joined) ? joined + p.sep : joined
}

/** True when `child` is `parent` or lies below it (both absolute). */
export function isWithin(child: string, parent: string, p: path.PlatformPath = path): boolean {
  const relative = p.relative(parent, child)
  return relative === '' || (!relative.startsWith('..') && !p.isAbsolute(relative))
}

/** Where the `path` input's relative lines and `~` resolve: the workspace and the home directory. */
export function pathContextOf(env: NodeJS.ProcessEnv): PathContext {
  return {
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    home: env.HOME || env.USERPROFILE || os.homedir(),
    pathApi: process.platform === 'win32' ? path.win32 : path.posix,
  }
}

/**
 * push and cache take upload-artifact's and actions/cache's lines (globs, `!` exclusions, `~`).
 * A line naming a symlink to nothing is refused here, before any network work.
 */
export function readPathPatterns(value: string, mode: string, context: PathContext): PathPatterns {
  let paths: PathPatterns
  try {
    paths = parsePathInput(value, context)
  } catch (error) {
    if (error instanceof PathInputError) throw new InputError('path', error.message)
    throw error
  }
  if (paths.includes.length === 0) {
    throw new InputError(
      'path',
      value ? `'${value}' names nothing but exclusions` : `is required in ${mode} mode`,
    )
  }
  for (const include of paths.includes) {
    if (include.literal) refuseDanglingSymlink(include.pattern, include.given)
  }
  return paths
}

/** A pull writes to one directory, named literally (`~` expanded); it may not exist yet. */
export function readDestination(value: string, context: PathContext): string {
  if (value.includes('\n')) throw new InputError('path', `a pull writes to one directory, got '${value}'`)
  const dir = path.resolve(context.workspace, expandHome(value, context.home) || '.')
  refuseDanglingSymlink(dir, value)
  if (existsAsNonDirectory(dir)) throw new InputError('path', `'${value}' exists and is not a directory`)
  return dir
}

/** `~/.npm` means the home directory, as in actions/cache (the runner does not expand it). */
function expandHome(value: string, home: string): string {
  if (value !== '~' && !value.startsWith('~/')) return value
  return path.join(home, value.slice(1))
}

// A symlink to nothing would fail later with a bare ENOENT from wherever it is first followed.
function refuseDanglingSymlink(dir: string, given: string): void {
  let target: string
  try {
    if (!lstatSync(dir).isSymbolicLink() || existsSync(dir)) return
    target = readlinkSync(dir)
  } catch {
    return
  }
  throw new InputError('path', `'${given}' is a symlink to '${target}', which does not exist`)
}

function existsAsNonDirectory(dir: string): boolean {
  try {
    return !statSync(dir).isDirectory()
  } catch {
    return false
  }
}
