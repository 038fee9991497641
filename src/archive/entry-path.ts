import { ArchiveEntryError } from './errors.js'

// Turns a path as an archive spells it into a safe path relative to the destination, `/`-separated,
// or undefined for the archive's root itself (`./`, or `<prefix>/` when stripping a prefix).
// Refuses absolute paths (`/x`, `\x`, `C:x`), `..` components, NUL bytes, and, with stripPrefix,
// anything outside `<prefix>/`. Backslashes count as separators here, so a name that is harmless
// on Linux cannot become a traversal when the same archive is extracted on Windows.
export function safeRelativePath(raw: string, stripPrefix?: string): string | undefined {
  if (raw.includes('\0')) throw new ArchiveEntryError(raw, 'the path holds a NUL byte')
  if (/^[/\\]/.test(raw) || /^[A-Za-z]:/.test(raw))
    throw new ArchiveEntryError(raw, 'absolute paths are refused')
  if (PLAIN.test(raw))
    return stripPlain(
      raw.slice(raw.startsWith('./') ? 2 : 0, raw.endsWith('/') ? -1 : undefined),
      raw,
      stripPrefix,
    )
  const parts = raw.split(/[/\\]+/).filter((part) => part !== '' && part !== '.')
  if (parts.includes('..')) throw new ArchiveEntryError(raw, '".." components are refused')
  if (stripPrefix !== undefined) {
    const prefixParts = stripPrefix.split('/').filter((part) => part !== '' && part !== '.')
    for (const [i, part] of prefixParts.entries()) {
      if (parts[i] !== part)
        throw new ArchiveEntryError(raw, `the entry is outside the layer's "${stripPrefix}/"`)
    }
    parts.splice(0, prefixParts.length)
  }
  return parts.length === 0 ? undefined : parts.join('/')
}

// The usual spelling, `a/b/c` with an optional `./` before and `/` after: no backslash, no empty,
// `.` or `..` component. Its parts, split and joined as below, are the path itself, so it skips
// that work (a per-entry cost on a tree of many small files).
const PLAIN = /^(?:\.\/)?(?!\.\.?(?:\/|$))[^/\\\0]+(?:\/(?!\.\.?(?:\/|$))[^/\\\0]+)*\/?$/

let lastPrefix: { stripPrefix: string; joined: string } | undefined

// stripPrefix's parts joined, as the parts comparison above sees them
function joinedPrefix(stripPrefix: string): string {
  if (lastPrefix?.stripPrefix !== stripPrefix) {
    const joined = stripPrefix
      .split('/')
      .filter((part) => part !== '' && part !== '.')
      .join('/')
    lastPrefix = { stripPrefix, joined }
  }
  return lastPrefix.joined
}

function stripPlain(relative: string, raw: string, stripPrefix: string | undefined): string | undefined {
  const prefix = stripPrefix === undefined ? '' : joinedPrefix(stripPrefix)
  if (prefix === '') return relative
  if (relative === prefix) return undefined
  if (relative.length > prefix.length && relative.startsWith(prefix) && relative[prefix.length] === '/')
    return relative.slice(prefix.length + 1)
  throw new ArchiveEntryError(raw, `the entry is outside the layer's "${stripPrefix}/"`)
}

// `a/b/c` -> [`a`, `a/b`]
export function ancestorsOf(relative: string): string[] {
  const out: string[] = []
  let at = relative.indexOf('/')
  while (at !== -1) {
    out.push(relative.slice(0, at))
    at = relative.indexOf('/', at + 1)
  }
  return out
}
