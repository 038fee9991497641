import type { Readable } from 'node:stream'

import type { Descriptor } from '../descriptor.js'
import type { BlobWriter } from '../upload/produced-upload.js'

// The few Repository methods (src/oci/repository.ts) the layout code calls, named as capabilities
// so the unit tests can hand in a small in-memory registry and Repository fits without adapters.

export interface LayoutPushTarget extends BlobWriter {
  putManifest(bytes: Buffer, mediaType: string, tagOrDigest: string): Promise<string>
}

export interface LayoutPullSource {
  getManifest(tagOrDigest: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }>
  fetchBlob(desc: Descriptor, o?: { onProgress?: (bytes: number) => void }): Promise<Readable>
}
