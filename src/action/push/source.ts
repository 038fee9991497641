import * as core from '@actions/core'
import { collectPushSource, PathSelectionError, type PushSource } from './collect-paths.js'
import type { Inputs } from './inputs.js'

/** What the push packs, from `path`, `format`, `include-hidden-files` and `include-git`. */
export async function findPushSource(inputs: Inputs): Promise<PushSource> {
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
export function noFilesFound(inputs: Inputs): undefined {
  const given = inputs.paths.includes.map((line) => line.given).join(', ')
  const message = `No files were found with the provided path: ${given}. No artifacts will be uploaded.`
  if (inputs.ifNoFilesFound === 'error') throw new PathSelectionError(message)
  if (inputs.ifNoFilesFound === 'warn') core.warning(message)
  else core.info(message)
  return undefined
}
