import * as core from '@actions/core'
import * as glob from '@actions/glob'
import { lstatSync, type Stats } from 'node:fs'
import path from 'node:path'
import { isWithin, type PathLine, type PathPatterns } from './path-inputs.js'

export interface CollectOptions {
  workspace: string
  includeGit: boolean
  includeHidden: boolean
}

export class PathSelectionError extends Error {
  constructor(message: string) {
    super(`Input 'path': ${message}`)
    this.name = 'PathSelectionError'
  }
}

/** Every match of every include line, less the exclusions, hidden names and `.git` filtered. */
export async function matchAll(patterns: PathPatterns, o: CollectOptions): Promise<string[]> {
  const all = new Set<string>()
  for (const line of patterns.includes) {
    for (const match of await matchLine(line, patterns.excludes, o)) all.add(match)
  }
  return [...all].sort()
}

/**
 * One line's matches with @actions/glob, symlinks listed as links (never followed: they are
 * stored as links). Hidden names count below what the line names, so `~/.npm` or `.env` written
 * out is kept while `dist/.env` under `dist` is not; `.git` is left out anywhere below the
 * workspace unless includeGit, even when named, and kept with includeGit however hidden names go.
 */
export async function matchLine(line: PathLine, excludes: string[], o: CollectOptions): Promise<string[]> {
  logOutside(line, o.workspace)
  const globber = await glob.create([line.pattern, ...excludes.map((x) => `!${x}`)].join('\n'), {
    followSymbolicLinks: false,
    implicitDescendants: true,
    matchDirectories: true,
  })
  const matches: string[] = []
  for await (const match of globber.globGenerator()) {
    if (!o.includeHidden && hasHiddenPart(path.relative(line.searchRoot, match), o.includeGit)) continue
    const base = isWithin(match, o.workspace) ? o.workspace : path.dirname(line.searchRoot)
    if (!o.includeGit && path.relative(base, match).split(path.sep).includes('.git')) continue
    matches.push(match)
  }
  return matches
}

// `.git` answers to includeGit alone, hidden or not (README: "whatever else is set").
function hasHiddenPart(relative: string, includeGit: boolean): boolean {
  return (
    relative !== '' &&
    relative.split(path.sep).some((part) => part.startsWith('.') && !(includeGit && part === '.git'))
  )
}

const logged = new Set<string>()

/** upload-artifact allows paths outside the workspace; the log says where one resolved to. */
export function logOutside(line: PathLine, workspace: string): void {
  if (isWithin(line.searchRoot, workspace) || logged.has(line.pattern)) return
  logged.add(line.pattern)
  core.info(`path '${line.given}' is outside the workspace: ${line.pattern}`)
}

export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file)
  } catch {
    return undefined
  }
}
