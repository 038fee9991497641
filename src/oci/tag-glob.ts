import path from 'node:path'

// Globs over tags: `*`, `?` and `[...]` (with `[!...]`), as prune's tag-pattern and a pull's
// `tag: reports-*` take them. A tag holds no `/` and none of `* ? [ ]`, so a value is a glob
// exactly when it holds one of those characters, and a path glob is a tag glob: Node's own
// matcher does, no dependency.
const GLOB_CHARACTER = /[*?[]/
const TAG_GLOB = /^[A-Za-z0-9_.\-*?[\]!]{1,256}$/

/** True when `value` is a glob rather than one tag (no tag can hold `*`, `?` or `[`). */
export function isTagGlob(value: string): boolean {
  return GLOB_CHARACTER.test(value)
}

/** Tag characters and `* ? [ ] !` only: anything else cannot match a tag and is a typo. */
export function isValidTagGlob(pattern: string): boolean {
  return TAG_GLOB.test(pattern)
}

export function matchesTagGlob(tag: string, pattern: string): boolean {
  return path.posix.matchesGlob(tag, pattern)
}

export class TooManyTagsError extends Error {
  constructor(
    readonly pattern: string,
    readonly matched: number,
    readonly max: number,
  ) {
    super(
      `'${pattern}' matches ${matched} tags, more than the ${max} one step takes: ` +
        `narrow the pattern (or split it over several steps)`,
    )
    this.name = 'TooManyTagsError'
  }
}

/**
 * The tags of `tags` (a whole, paged tag list) that `pattern` matches, sorted by code point so the
 * same tags give the same order on every registry (ghcr.io and Distribution list in their own
 * orders). Above `max` matches it throws, naming the count: a pattern that matches far more than
 * meant should fail before anything is downloaded, not fill the disk.
 */
export function matchTagList(tags: readonly string[], pattern: string, max: number): string[] {
  const matched = [...new Set(tags.filter((tag) => matchesTagGlob(tag, pattern)))].sort(byCodePoint)
  if (matched.length > max) throw new TooManyTagsError(pattern, matched.length, max)
  return matched
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
