import path from 'node:path'

import { LayoutError } from './layout-error.js'

// Only sha256 is accepted: it is what registries and the image spec require of every implementation,
// and the strict pattern is also what keeps a digest from naming a path outside blobs/.
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/

export function isSha256Digest(digest: string): boolean {
  return SHA256_DIGEST.test(digest)
}

/** Where the image spec puts a blob: blobs/<algorithm>/<encoded>. `file` names who referenced it. */
export function blobPath(layoutDir: string, digest: string, referencedFrom: string): string {
  if (!isSha256Digest(digest)) {
    throw new LayoutError(referencedFrom, `unsupported or malformed digest ${JSON.stringify(digest)}`)
  }
  return path.join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length))
}
