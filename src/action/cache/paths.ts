import path from 'node:path'
import { PATH_ANNOTATION, ROOT_ANNOTATION } from '../../cache/cache-annotations.js'
import { cacheVersion } from '../../cache/cache-tag.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { lstatOrUndefined, matchLine } from '../inputs/collect-paths.js'
import type { PathLine, PathPatterns } from '../inputs/path-inputs.js'

/**
 * A cache holds one layer per `path` line, so a save in which one path changed uploads only that
 * path's layer (the others pack to the same bytes, found in the registry by digest), and a
 * restore puts each back where the restoring job's own line points: `~/.npm` under its HOME,
 * `target` in its workspace, whatever the workspace of the job that saved it.
 */
export interface CachePathSource {
  line: PathLine
  /** The folder the layer is packed from and restored into */
  root: string
  /** `.`: the line's path (or a glob's literal folder); `..`: a single file's folder */
  relation: '.' | '..'
  /** Only these below root (relative); undefined: the whole folder */
  select?: string[]
}

/** actions/cache's version of these path lines: part of what a key means. */
export function pathsVersion(patterns: PathPatterns, windows = process.platform === 'win32'): string {
  return cacheVersion(patterns.lines, windows)
}

/** What each line names now; lines that match nothing are left out (and named in `missing`). */
export async function collectCachePaths(
  patterns: PathPatterns,
  o: { workspace: string; includeGit: boolean },
): Promise<{ sources: CachePathSource[]; missing: string[] }> {
  const sources: CachePathSource[] = []
  const missing: string[] = []
  for (const line of patterns.includes) {
    const source = await collectLine(line, patterns.excludes, o)
    if (source) sources.push(source)
    else missing.push(line.given)
  }
  return { sources, missing }
}

async function collectLine(
  line: PathLine,
  excludes: string[],
  o: { workspace: string; includeGit: boolean },
): Promise<CachePathSource | undefined> {
  const stat = line.literal ? lstatOrUndefined(line.pattern) : undefined
  if (line.literal && !stat) return undefined
  const relation = stat && !stat.isDirectory() ? '..' : '.'
  const root = rootOf(line, relation)
  // a whole folder with nothing left out is walked by the archive itself, as fast as tar
  if (stat?.isDirectory() && excludes.length === 0) return { line, root, relation }
  // a cache keeps hidden files, as actions/cache does
  const matches = await matchLine(line, excludes, { ...o, includeHidden: true })
  if (matches.length === 0) return undefined
  const select = matches.map((m) => path.relative(root, m)).filter((r) => r !== '')
  return { line, root, relation, select }
}

function rootOf(line: PathLine, relation: '.' | '..'): string {
  if (relation === '..') return path.dirname(line.pattern)
  return line.literal ? line.pattern : line.searchRoot
}

export function cacheLayerAnnotations(source: CachePathSource): Record<string, string> {
  return { [PATH_ANNOTATION]: source.line.given, [ROOT_ANNOTATION]: source.relation }
}

/**
 * Where a saved layer goes: the restoring job's own line of the same text, resolved in its own
 * workspace and home. A layer naming a line this job did not give is refused (the version makes
 * that a forgery or a bug), so a cache can only write where the job's `path` points.
 */
export function restoreRootOf(layer: Descriptor, patterns: PathPatterns): string {
  const given = layer.annotations?.[PATH_ANNOTATION]
  const relation = layer.annotations?.[ROOT_ANNOTATION] === '..' ? '..' : '.'
  const line = patterns.includes.find((l) => l.given === given)
  if (!line)
    throw new Error(`cache layer ${layer.digest} is for path '${given}', which this job does not name`)
  return rootOf(line, relation)
}
