import { InputError, readBoolean, type ReadInput } from '../inputs/readers.js'
import { readRegistryTarget, type RegistryTarget } from '../inputs/registry-inputs.js'

/** What may go and what stays, and where: validated before any network work. */
export interface PruneInputs extends RegistryTarget {
  /** Globs over tags; empty: only caches are pruned */
  tagPatterns: string[]
  keep?: number
  olderThanMs?: number
  dryRun: boolean
}

// `30d`, `12h`, `90m`, `2w`: what retention settings are written in; a bare number is refused
// so `older-than: 30` cannot mean seconds to one reader and days to another.
const DURATION = /^(\d+)\s*(m|h|d|w)$/
const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** The pure half of prune mode's inputs: `env` supplies the runner's GITHUB_* variables for defaults. */
export function parsePruneInputs(
  read: ReadInput,
  env: NodeJS.ProcessEnv,
  notice: (message: string) => void = () => {},
): PruneInputs {
  const target = readRegistryTarget(read, env, notice)
  const tagPatterns = read('tag-pattern')
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean)
  for (const pattern of tagPatterns) {
    if (!/^[A-Za-z0-9_.\-*?[\]!]+$/.test(pattern)) {
      throw new InputError('tag-pattern', `'${pattern}' is not a glob over tags (tag characters and * ? [ ])`)
    }
  }
  const keepText = read('keep').trim()
  if (keepText && !/^\d{1,6}$/.test(keepText)) {
    throw new InputError('keep', `'${keepText}' is not a whole number of versions`)
  }
  const olderText = read('older-than').trim()
  const duration = DURATION.exec(olderText)
  if (olderText && !duration) {
    throw new InputError('older-than', `'${olderText}' is not a duration like 30d, 12h, 90m or 2w`)
  }
  const prune: PruneInputs = { ...target, tagPatterns, dryRun: readBoolean('dry-run', read('dry-run')) }
  if (keepText) prune.keep = Number(keepText)
  if (duration) prune.olderThanMs = Number(duration[1]) * (DURATION_MS[duration[2] as string] as number)
  if (prune.keep === undefined && prune.olderThanMs === undefined) {
    // with neither, every matching version would go: make that a choice someone wrote down
    throw new InputError('keep', 'prune needs keep, older-than or both (keep: 0 deletes every match)')
  }
  return prune
}
