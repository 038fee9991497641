import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'

import type { Descriptor } from '../descriptor.js'
import { LayoutError } from './layout-error.js'

function tempNameFor(file: string): string {
  // Hidden and random, so a crash leaves a file no layout reader mistakes for a blob, and two
  // writers of the same blob never share a temp file.
  return path.join(path.dirname(file), `.tmp-${path.basename(file)}-${randomBytes(6).toString('hex')}`)
}

/** Writes a small file (index.json, oci-layout, a manifest) so readers see the old or the new one. */
export async function writeFileAtomic(file: string, bytes: Buffer | string): Promise<void> {
  const temp = tempNameFor(file)
  try {
    await writeFile(temp, bytes)
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

/**
 * Streams `source` into `file`, hashing as it goes, and only renames it into place once the sha256
 * and length are the descriptor's: a blob file under its digest is always that digest's content.
 */
export async function writeBlobVerified(
  file: string,
  descriptor: Descriptor,
  source: Readable,
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const temp = tempNameFor(file)
  const hash = createHash('sha256')
  let size = 0
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
  })
  try {
    await pipeline(source, tap, createWriteStream(temp))
    const digest = `sha256:${hash.digest('hex')}`
    if (digest !== descriptor.digest || size !== descriptor.size) {
      throw new LayoutError(
        file,
        `download does not match its descriptor: expected ${descriptor.digest} (${descriptor.size} bytes), ` +
          `got ${digest} (${size} bytes)`,
      )
    }
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}
