import { readdirSync } from 'node:fs'
import path from 'node:path'

/** A path that several trees hold, and which of them (indexes into the roots, in order). */
export interface Overlap {
  path: string
  holders: number[]
}

/**
 * The entries that merging `roots` in order (mergeInto, later over earlier) would replace: a path
 * that several roots hold, unless it is a directory in every one of them (directories merge).
 * Names only, never contents; a root that does not exist holds nothing. Sorted by path.
 */
export function overlappingEntries(roots: readonly string[]): Overlap[] {
  const seen = new Map<string, { holders: number[]; allDirectories: boolean }>()
  roots.forEach((root, index) => {
    for (const { relative, directory } of walk(root)) {
      const entry = seen.get(relative)
      if (!entry) seen.set(relative, { holders: [index], allDirectories: directory })
      else {
        entry.holders.push(index)
        entry.allDirectories &&= directory
      }
    }
  })
  const overlaps: Overlap[] = []
  for (const [relative, entry] of seen) {
    if (entry.holders.length > 1 && !entry.allDirectories)
      overlaps.push({ path: relative, holders: entry.holders })
  }
  return overlaps.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

// Depth first, without following symlinks (a link is an entry, as mergeInto treats it).
function* walk(root: string, prefix = ''): Generator<{ relative: string; directory: boolean }> {
  let entries
  try {
    entries = readdirSync(path.join(root, prefix), { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && prefix === '') return
    throw error
  }
  for (const entry of entries) {
    const relative = prefix ? path.join(prefix, entry.name) : entry.name
    const directory = entry.isDirectory()
    yield { relative, directory }
    if (directory) yield* walk(root, relative)
  }
}
