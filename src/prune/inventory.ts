import { Annotation } from '../oci/annotations.js'
import type { Descriptor } from '../oci/descriptor.js'
import { RegistryError } from '../oci/errors.js'
import { forEachLimited } from '../oci/layout/for-each-limited.js'
import type { Logger } from '../oci/logger.js'
import { manifestChildren, readManifest, type ManifestDocument } from '../oci/manifest.js'
import type { Repository } from '../oci/repository.js'
import type { StoredVersion } from './versions.js'

/** A version with what its manifest says: what it references, its type and its annotations. */
export interface InventoryVersion extends StoredVersion {
  mediaType: string
  /** Bytes of the manifest itself */
  size: number
  /** Digests of the manifests an index lists */
  children: string[]
  /** An image manifest's config and layers */
  blobs: Descriptor[]
  artifactType?: string
  annotations: Record<string, string>
}

export type ManifestSource = Pick<Repository, 'getManifest'>

// Manifest GETs in flight: small documents, so latency bound; registries tolerate this many.
const FETCH_CONCURRENCY = 8

/**
 * Reads every version's manifest. When the store cannot list untagged manifests, the manifests a
 * listed index references are read too, as untagged versions (a platform manifest of an index is
 * usually named by digest only). A manifest gone meanwhile drops out; creation time is the
 * store's, else the manifest's `org.opencontainers.image.created`.
 */
export async function readInventory(
  source: ManifestSource,
  listed: StoredVersion[],
  o: { listsUntagged: boolean; logger: Logger },
): Promise<InventoryVersion[]> {
  const found = new Map<string, InventoryVersion>()
  let wave: StoredVersion[] = listed
  while (wave.length > 0) {
    const read = new Array<InventoryVersion | undefined>(wave.length)
    await forEachLimited(wave, FETCH_CONCURRENCY, async (version, i) => {
      read[i] = await readVersion(source, version, o.logger)
    })
    const next = new Map<string, StoredVersion>()
    for (const version of read) {
      if (!version || found.has(version.digest)) continue
      found.set(version.digest, version)
      if (o.listsUntagged) continue
      for (const child of version.children) {
        if (!found.has(child)) next.set(child, { id: child, digest: child, tags: [] })
      }
    }
    wave = [...next.values()].filter((v) => !found.has(v.digest))
  }
  return [...found.values()]
}

async function readVersion(
  source: ManifestSource,
  version: StoredVersion,
  logger: Logger,
): Promise<InventoryVersion | undefined> {
  let manifest: { bytes: Buffer; mediaType: string }
  try {
    manifest = await source.getManifest(version.digest)
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    throw error
  }
  let doc: ManifestDocument | undefined
  try {
    doc = readManifest(manifest.bytes, manifest.mediaType)
  } catch (error) {
    // a manifest kind we do not read (a Docker schema 1, say) is still a version: kept or deleted whole
    logger.debug(`${version.digest}: ${(error as Error).message}`)
  }
  const annotations = doc?.annotations ?? {}
  const created = version.created ?? parseTime(annotations[Annotation.Created])
  return {
    ...version,
    ...(created ? { created } : {}),
    mediaType: manifest.mediaType,
    size: manifest.bytes.length,
    children: doc?.manifests.map((m) => m.digest) ?? [],
    blobs: doc ? manifestChildren(doc).blobs : [],
    ...(doc?.artifactType === undefined ? {} : { artifactType: doc.artifactType }),
    annotations,
  }
}

export function parseTime(value: string | undefined): Date | undefined {
  if (!value) return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : new Date(at)
}
