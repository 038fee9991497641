import { statfsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

const TMPFS_MAGIC = 0x01021994

export interface WorkDir {
  path: string
  /** For the report: where the trees were written. */
  label: string
  /** In memory: deleting is cheap there, and keeping every copy would fill the machine's memory. */
  tmpfs: boolean
}

/**
 * Where the benchmark writes what it pulls, restores and packs: a tmpfs (/dev/shm) when there is
 * one with room for `bytes`, else the disk under bench/.data. The trees are read from disk either
 * way, and both sides of every comparison write to the same place.
 *
 * Why not the disk by default: this VM's ext4 has no journal, and there every file created in the
 * five minutes after a mass delete costs a scan past each recently deleted inode (the kernel's
 * `recently_deleted()`: 1.4 s of a 2.6 s restore in one profile). A benchmark deletes a lot (its
 * previous run, if nothing else), so on that disk the extraction timings measured the order of the
 * steps more than the tools: `tar -xzf` of the same layer took 1.3 s on a quiet disk and 2.0 to
 * 4.3 s after deletes. GitHub's runners use ext4 with a journal, which has no such penalty.
 */
export function chooseWorkDir(dataDir: string, bytes: number, requested?: string): WorkDir {
  if (requested) return { path: requested, label: `written to ${requested}`, tmpfs: isTmpfs(requested) }
  try {
    const fs = statfsSync('/dev/shm')
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize > bytes) {
      return {
        path: join('/dev/shm', `oci-artifact-bench-${process.pid}`),
        label: 'written to a tmpfs (/dev/shm)',
        tmpfs: true,
      }
    }
  } catch {
    // no /dev/shm: the disk it is
  }
  return { path: join(dataDir, 'work'), label: 'written to disk (bench/.data/work)', tmpfs: false }
}

function isTmpfs(dir: string): boolean {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC
  } catch {
    return false
  }
}

/** Empties the folders a step writes into (each created if missing), so no step finds another's files. */
export async function emptyDirs(...dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
  }
}
