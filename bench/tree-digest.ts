import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'

/**
 * One digest over a tree's paths, kinds, modes and contents, to prove that what a pull wrote is
 * what the push read: a fast pull that drops files must not count as a win.
 */
export async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256')
  await walk(root, '', hash)
  return hash.digest('hex')
}

async function walk(root: string, relative: string, hash: ReturnType<typeof createHash>): Promise<void> {
  const entries = (await readdir(join(root, relative))).sort()
  for (const name of entries) {
    const path = join(relative, name)
    const full = join(root, path)
    const info = await lstat(full)
    const mode = (info.mode & 0o7777).toString(8)
    if (info.isDirectory()) {
      hash.update(`d ${path} ${mode}\n`)
      await walk(root, path, hash)
    } else if (info.isSymbolicLink()) {
      hash.update(`l ${path} ${await readlink(full)}\n`)
    } else {
      hash.update(`f ${path} ${mode} ${info.size}\n`)
      await pipeline(createReadStream(full), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) hash.update(chunk)
      })
    }
  }
}
