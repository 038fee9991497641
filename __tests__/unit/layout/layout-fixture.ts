import { mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

import type { Descriptor } from '../../../src/oci/layout/index.js'
import { sha256Digest as sha256 } from '../../../src/oci/descriptor.js'

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
export const LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
export const REF_NAME = 'org.opencontainers.image.ref.name'

export async function tempDir(prefix = 'layout-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix))
}

/** Writes layouts blob by blob, the way skopeo or oras would, so tests can then break them on purpose. */
export class LayoutBuilder {
  constructor(readonly dir: string) {}

  static async create(): Promise<LayoutBuilder> {
    const dir = await tempDir()
    await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true })
    await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
    return new LayoutBuilder(dir)
  }

  blobFile(digest: string): string {
    return path.join(this.dir, 'blobs', 'sha256', digest.slice('sha256:'.length))
  }

  async blob(mediaType: string, content: Buffer | string): Promise<Descriptor> {
    const bytes = Buffer.from(content)
    const digest = sha256(bytes)
    await writeFile(this.blobFile(digest), bytes)
    return { mediaType, digest, size: bytes.length }
  }

  /** An image manifest with a config and the given layers; `extra` lands in the JSON as is. */
  async image(layers: (Buffer | string)[], extra: Record<string, unknown> = {}): Promise<Descriptor> {
    const config = await this.blob(
      OCI_CONFIG,
      JSON.stringify({ architecture: 'amd64', os: 'linux', layers: layers.length }),
    )
    const layerDescriptors = []
    for (const layer of layers) layerDescriptors.push(await this.blob(LAYER_GZIP, layer))
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: layerDescriptors, ...extra }
    return this.blob(OCI_MANIFEST, JSON.stringify(manifest, null, 2))
  }

  async index(manifests: Descriptor[]): Promise<Descriptor> {
    return this.blob(OCI_INDEX, JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }))
  }

  async writeIndex(entries: { descriptor: Descriptor; name?: string }[]): Promise<void> {
    const manifests = entries.map(({ descriptor, name }) =>
      name === undefined ? descriptor : { ...descriptor, annotations: { [REF_NAME]: name } },
    )
    await writeFile(path.join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }))
  }
}
