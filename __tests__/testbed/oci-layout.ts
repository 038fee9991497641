import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface LayoutBlob {
  mediaType: string
  digest: string
  size: number
}

export interface WrittenLayout {
  /** The manifest's descriptor, as index.json lists it. */
  manifest: LayoutBlob
  config: LayoutBlob
  layers: LayoutBlob[]
}

export interface LayoutOptions {
  /** Layer contents, as bytes (already compressed or not: the bed does not care). */
  layers: { data: Buffer; mediaType?: string }[]
  artifactType?: string
  annotations?: Record<string, string>
  /** Written as `org.opencontainers.image.ref.name` in index.json, so `oci:DIR:TAG` finds it. */
  tag?: string
}

// https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md#guidance-for-an-empty-descriptor
const EMPTY_CONFIG = Buffer.from('{}')

/**
 * Writes a minimal OCI image layout (oci-layout, index.json, blobs/sha256) with an empty config
 * and the given layers: what a test copies into the bed with `skopeo copy oci:DIR:TAG docker://...`
 * to have something to pull, built without the code under test.
 */
export async function writeOciLayout(dir: string, o: LayoutOptions): Promise<WrittenLayout> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true })
  const put = async (data: Buffer, mediaType: string): Promise<LayoutBlob> => {
    const hex = createHash('sha256').update(data).digest('hex')
    await writeFile(join(dir, 'blobs', 'sha256', hex), data)
    return { mediaType, digest: `sha256:${hex}`, size: data.length }
  }

  const config = await put(EMPTY_CONFIG, 'application/vnd.oci.empty.v1+json')
  const layers: LayoutBlob[] = []
  for (const layer of o.layers)
    layers.push(await put(layer.data, layer.mediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip'))
  const manifestJson = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...(o.artifactType ? { artifactType: o.artifactType } : {}),
    config,
    layers,
    ...(o.annotations ? { annotations: o.annotations } : {}),
  }
  const manifest = await put(Buffer.from(JSON.stringify(manifestJson)), manifestJson.mediaType)
  const entry = o.tag
    ? { ...manifest, annotations: { 'org.opencontainers.image.ref.name': o.tag } }
    : manifest
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [entry],
    }),
  )
  return { manifest, config, layers }
}
