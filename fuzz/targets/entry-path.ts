// The entry-path rules: whatever an archive names, the path we accept stays inside the destination
// (on POSIX and, with backslashes as separators, on Windows), and a refusal is an ArchiveEntryError.
// Input: the raw entry path, optionally "\n" and the prefix to strip.
import path from 'node:path'
import { ancestorsOf, safeRelativePath } from '../../src/archive/entry-path.js'
import { ArchiveEntryError } from '../../src/archive/errors.js'

export function fuzz(data: Buffer): void {
  const text = data.toString('utf8')
  const newline = text.indexOf('\n')
  const raw = newline === -1 ? text : text.slice(0, newline)
  const prefix = newline === -1 ? undefined : text.slice(newline + 1)
  let relative: string | undefined
  try {
    relative = safeRelativePath(raw, prefix)
  } catch (error) {
    if (error instanceof ArchiveEntryError && error.entry === raw) return
    throw error
  }
  if (relative === undefined) return
  const parts = relative.split('/')
  if (
    parts.some(
      (part) => part === '' || part === '.' || part === '..' || part.includes('\\') || part.includes('\0'),
    )
  )
    throw new Error(`${JSON.stringify(raw)} became ${JSON.stringify(relative)}`)
  for (const [join, root] of [
    [path.posix.join, '/dest'],
    [path.win32.join, 'C:\\dest'],
  ] as const) {
    const joined = join(root, relative)
    const sep = root.startsWith('/') ? '/' : '\\'
    if (!joined.startsWith(root + sep)) throw new Error(`${JSON.stringify(raw)} lands at ${joined}`)
  }
  const ancestors = ancestorsOf(relative)
  if (
    ancestors.length !== parts.length - 1 ||
    ancestors.some((a, i) => a !== parts.slice(0, i + 1).join('/'))
  )
    throw new Error(`ancestors of ${JSON.stringify(relative)}: ${JSON.stringify(ancestors)}`)
}
