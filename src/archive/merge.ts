import { lstatSync, readdirSync, renameSync, rmSync, unlinkSync, type Stats } from 'node:fs'
import path from 'node:path'

// Moves everything from a verified staging folder into an existing destination. What the artifact
// holds replaces what is there (a file, a symlink, or a whole directory where the artifact has a
// file); what the artifact does not hold is left alone. Only real directories are descended into:
// a symlink already in dest is replaced, never written through, so it cannot redirect the
// artifact outside dest. Each move is a rename on one filesystem.
export function mergeInto(staging: string, dest: string): void {
  for (const name of readdirSync(staging)) {
    const from = path.join(staging, name)
    const to = path.join(dest, name)
    const fromIsDirectory = lstatSync(from).isDirectory()
    const existing = lstatOrUndefined(to)
    if (existing?.isDirectory()) {
      if (fromIsDirectory) {
        mergeInto(from, to)
        continue
      }
      rmSync(to, { recursive: true, force: true })
    } else if (existing && fromIsDirectory) {
      // rename(2) will not put a directory over a file or symlink
      unlinkSync(to)
    }
    renameSync(from, to)
  }
}

export function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
