import * as core from '@actions/core'
import path from 'node:path'
import {
  lstatOrUndefined,
  logOutside,
  matchAll,
  PathSelectionError,
  type CollectOptions,
} from '../inputs/collect-paths.js'
import { commonAncestor, type PathLine, type PathPatterns } from '../inputs/path-inputs.js'
import type { PushInputs } from './inputs.js'

/** What a push packs, decided from the matches before anything is read or sent. */
export type PushSource =
  /** One directory named as it is: walked by the archive (the fastest way, and today's digest) */
  | { kind: 'directory'; root: string }
  /** Matches below their least common ancestor (as upload-artifact roots them), relative to it */
  | { kind: 'selection'; root: string; select: string[] }
  /** Regular files, each its own layer, sorted by path */
  | { kind: 'files'; files: string[] }
  | { kind: 'none' }

/** What the push packs, from `path`, `format`, `include-hidden-files` and `include-git`. */
export async function findPushSource(inputs: PushInputs): Promise<PushSource> {
  const format = inputs.format === 'files' || inputs.format === 'directory' ? inputs.format : 'auto'
  const source = await collectPushSource(inputs.paths, format, {
    workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
    includeGit: inputs.includeGit,
    includeHidden: inputs.includeHiddenFiles,
  })
  switch (source.kind) {
    case 'directory':
      core.info(`Packing the directory ${source.root}`)
      break
    case 'selection':
      core.info(`Packing ${source.select.length} matched entries below ${source.root}`)
      break
    case 'files':
      core.info(`Pushing ${source.files.length} file(s), one layer each: ${source.files.join(', ')}`)
      break
    case 'none':
      break
  }
  return source
}

/** upload-artifact's `if-no-files-found`, with its wording: warn (default), error or ignore. */
export function noFilesFound(inputs: PushInputs): undefined {
  const given = inputs.paths.includes.map((line) => line.given).join(', ')
  const message = `No files were found with the provided path: ${given}. No artifacts will be uploaded.`
  if (inputs.ifNoFilesFound === 'error') throw new PathSelectionError(message)
  if (inputs.ifNoFilesFound === 'warn') core.warning(message)
  else core.info(message)
  return undefined
}

/**
 * The push's source. `format: files` asks for a layer per file; otherwise one file alone is
 * pushed as ORAS pushes a file (its raw bytes, titled) and anything else as one tar layer.
 */
export async function collectPushSource(
  patterns: PathPatterns,
  format: 'auto' | 'directory' | 'files',
  o: CollectOptions,
): Promise<PushSource> {
  // one tree has one root; with `format: files` each file is a layer of its own, from any drive
  if (format !== 'files') refuseSeveralDrives(patterns.includes)
  const [only] = patterns.includes
  if (only && patterns.includes.length === 1 && only.literal && patterns.excludes.length === 0) {
    const stat = lstatOrUndefined(only.pattern)
    logOutside(only, o.workspace)
    if (!stat) return { kind: 'none' }
    if (stat.isDirectory() && format !== 'files') return { kind: 'directory', root: only.pattern }
    if (stat.isFile() && format !== 'directory') return { kind: 'files', files: [only.pattern] }
  }
  const matches = await matchAll(patterns, o)
  if (matches.length === 0) return { kind: 'none' }
  if (format === 'files') return { kind: 'files', files: regularFiles(matches) }
  const [first] = matches
  if (first && matches.length === 1 && format === 'auto' && lstatOrUndefined(first)?.isFile()) {
    return { kind: 'files', files: [first] }
  }
  const root = commonAncestor(matches)
  const select = matches.map((m) => path.relative(root, m)).filter((r) => r !== '')
  // a lone file selected with format: directory is packed from its folder
  if (select.length === 0 && !lstatOrUndefined(root)?.isDirectory()) {
    return { kind: 'selection', root: path.dirname(root), select: [path.basename(root)] }
  }
  return { kind: 'selection', root, select }
}

/**
 * A tree is packed from its matches' common folder: lines on two drives (a hosted Windows runner
 * has the workspace on D: and the home on C:) have none. Refused before anything is read, naming
 * both lines and the way out, as upload-artifact refuses them (actions/upload-artifact#431); a
 * cache keeps a layer per line, so it takes lines on any drive.
 */
export function refuseSeveralDrives(includes: PathLine[], p: path.PlatformPath = path): void {
  const drive = (line: PathLine) => p.parse(line.searchRoot).root.toLowerCase()
  const [first] = includes
  const other = includes.find((line) => first && drive(line) !== drive(first))
  if (!first || !other) return
  throw new PathSelectionError(
    `'${first.given}' (${first.searchRoot}) and '${other.given}' (${other.searchRoot}) are on ` +
      "different drives, and a push stores one tree with one root: push each drive's paths in a " +
      'push of its own (its own tag or repository), or use format: files for files',
  )
}

// Layers are titled with a file's name: two files of the same name would overwrite each other
// on pull, so they are refused here, naming both.
function regularFiles(matches: string[]): string[] {
  const files = matches.filter((m) => {
    const stat = lstatOrUndefined(m)
    if (stat?.isSymbolicLink()) {
      throw new PathSelectionError(`${m} is a symlink: format 'files' pushes regular files only`)
    }
    return stat?.isFile()
  })
  const byName = new Map<string, string>()
  for (const file of files) {
    const name = path.basename(file)
    const seen = byName.get(name)
    if (seen) throw new PathSelectionError(`${seen} and ${file} would both be pulled as '${name}'`)
    byName.set(name, file)
  }
  return files.sort((a, b) => Buffer.compare(Buffer.from(path.basename(a)), Buffer.from(path.basename(b))))
}
