import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'

/** sha256 and length of a file, streamed so a multi-gigabyte layer costs one read buffer of memory. */
export async function digestFile(file: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer
    hash.update(bytes)
    size += bytes.length
  }
  return { digest: `sha256:${hash.digest('hex')}`, size }
}
