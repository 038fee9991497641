import * as core from '@actions/core'
import { gzipContentDigest } from '../../archive/gzip-content.js'
import { digestDirectory } from '../../archive/pack.js'
import type { DigestOptions } from '../../archive/types.js'
import { Annotation } from '../../oci/annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { RegistryError } from '../../oci/errors.js'
import { InvalidManifestError, parseManifest } from '../../oci/manifest.js'
import { MediaType } from '../../oci/media-types.js'
import type { Repository } from '../../oci/repository.js'

/**
 * Compressing is nearly all of a push's time, and a re-push of an unchanged tree should not pay
 * it again. When the first tag already names a one-layer directory manifest, hash the tree's tar
 * without writing or compressing it, and compare with that layer.
 *
 * The layer's annotation (`io.deis.oras.content.digest`) is only a claim: anyone who can write
 * the tag can swap the layer and keep the annotation, and we would then publish (and output for
 * signing) a digest of bytes we never produced. No value of ours can prove a layer was ours
 * without a secret kept across runs, which a job does not have; so the layer itself is checked.
 * Its bytes are downloaded (verified against its digest) and decompressed, never written, while
 * the tree is hashed: reused only when it is exactly our tar in our gzip framing
 * (gzipContentDigest). Decompressing is several times cheaper than compressing and runs on the
 * other core meanwhile; BENCHMARKS.md has the cost. The download stops as soon as the tree turns
 * out to differ from the claim.
 */
export async function unchangedLayer(
  repo: Repository,
  tag: string,
  dir: string,
  title: string,
  options: DigestOptions,
): Promise<Descriptor | undefined> {
  const stop = new AbortController()
  const hashing = digestDirectory(dir, { ...options, signal: stop.signal })
  // settled below on every path; until then a rejection must not count as unhandled
  hashing.catch(() => {})
  let proving: Promise<string | undefined> | undefined
  try {
    const previous = await previousLayer(repo, tag)
    const claimed = previous?.annotations?.[Annotation.OrasContentDigest]
    if (!previous || !claimed || previous.annotations?.[Annotation.Title] !== title) return undefined
    proving = layerContent(repo, previous, stop.signal)
    proving.catch(() => {})
    const hashed = await hashing
    if (hashed.uncompressedDigest !== claimed) {
      core.info(`${tag} holds other content (${claimed}): packing anew`)
      return undefined
    }
    const proven = await proving
    if (proven !== hashed.uncompressedDigest) {
      core.warning(
        `${tag}'s layer ${previous.digest} does not hold the content its annotation claims ` +
          `(${claimed}): packing anew. Someone with write access to the tag may have replaced it.`,
      )
      return undefined
    }
    core.info(`The tree is unchanged since ${tag}: reusing its layer ${previous.digest} (verified)`)
    // our descriptor, not the tag's: annotations or fields someone else added do not come along
    return directoryLayer(previous, proven, title)
  } finally {
    // no file or download stays open and no read competes with the pack that may follow
    stop.abort()
    await Promise.all([hashing.catch(() => {}), proving?.catch(() => {})])
  }
}

/** The descriptor of a directory layer as we publish it (ORAS's annotations). */
export function directoryLayer(
  blob: { digest: string; size: number },
  tarDigest: string,
  title: string,
): Descriptor {
  return {
    mediaType: MediaType.LayerTarGzip,
    digest: blob.digest,
    size: blob.size,
    annotations: {
      [Annotation.OrasContentDigest]: tarDigest,
      [Annotation.OrasUnpack]: 'true',
      [Annotation.Title]: title,
    },
  }
}

// What the layer decompresses to, or undefined when it cannot be read or is not in our framing:
// either way the push packs anew, which is always correct.
async function layerContent(
  repo: Repository,
  layer: Descriptor,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    // the signal drops the request itself when the tree is found changed first, so a slow answer
    // is never left open for the storage host to cut
    const blob = await repo.fetchBlob(layer, { signal })
    if (signal.aborted) {
      // answered after the tree was found changed: let the download go unread
      blob.destroy()
      return undefined
    }
    const abort = () => blob.destroy(new Error('no longer needed'))
    signal.addEventListener('abort', abort, { once: true })
    try {
      return await gzipContentDigest(blob)
    } finally {
      signal.removeEventListener('abort', abort)
    }
  } catch (error) {
    if (!signal.aborted) core.info(`Could not check the layer ${layer.digest}: ${(error as Error).message}`)
    return undefined
  }
}

async function previousLayer(repo: Repository, tag: string): Promise<Descriptor | undefined> {
  try {
    const previous = await repo.getManifest(tag)
    const manifest = parseManifest(previous.bytes)
    const layers = manifest.layers ?? []
    const only = layers[0]
    return layers.length === 1 && only?.mediaType === MediaType.LayerTarGzip ? only : undefined
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return undefined
    if (error instanceof InvalidManifestError) return undefined
    throw error
  }
}
