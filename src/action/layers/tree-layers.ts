import * as core from '@actions/core'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Writable } from 'node:stream'
import type { PackResult } from '../../archive/types.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import { uploadProducedBlob, type BlobTarget } from '../../oci/upload/produced-upload.js'
import { actionsLogger, formatBytes, startProgress, uploadProgress } from '../runner/log.js'

// Parts in flight at once: two uploads keep the link busy while a part's last bytes go up; more
// would only hold more sessions open. Their packs take turns (oneAtATime): a pack already runs on
// every core, and the upload's spill lets the next part pack while the last one's bytes still go
// up; two packs at once cost memory for no speed (BENCHMARKS.md, "Scaling": the split tree).
const PARTS_IN_FLIGHT = 2

/** One part of a tree (a whole directory, a cache path, or one part of a split) to pack and upload. */
export interface TreePart {
  /** For messages: `the layer of /w/dist`, `layer dist.part-1-of-3`, `the cache layer of ~/.npm` */
  label: string
  /** Names the part in the progress and "Uploaded" lines (a split's parts); else the digest does */
  name?: string
  /**
   * Packs the part into `out` (the caller opens its log group and logs what it packed); called
   * again, into a file, when the streamed upload failed: the pack is reproducible.
   */
  pack(out: Writable, into: 'upload' | 'file'): Promise<PackResult>
  /** The manifest's descriptor of what was packed, annotations included. */
  layer(packed: PackResult): Descriptor
}

export interface TreeLayersOptions {
  /**
   * true: pack straight into the upload (new content: the push takes about the longer of pack
   * and upload, not their sum); false: pack into a file first, uploaded only when the registry
   * does not hold its digest (content that may be unchanged, as a cache saved after a partial hit).
   */
  stream: boolean
  /** A folder the caller owns and removes: each part's spill and file copy go below it */
  spoolDir: string
  /** Called as each pack starts (the cache save starts its config blob with the first). */
  onPack?: () => void
}

export interface TreeLayers {
  /** In the order of the parts, whatever order they finished in */
  layers: Descriptor[]
  /** Bytes sent (0 for a part the registry had) */
  uploaded: number
  files: number
  uncompressedSize: number
}

/**
 * The one path by which tree layers go up (push, split push, cache save), in the manner of
 * go-containerregistry's writeLayers: every part through one pool of PARTS_IN_FLIGHT, each packed
 * into its upload (src/oci/upload/produced-upload.ts, which falls back to a file and decides
 * "skip if the registry has it" in one place). A single layer is a split of one. The first
 * failure stops parts not yet started and is what this rejects with.
 */
export async function uploadTreeLayers(
  repo: BlobTarget,
  parts: TreePart[],
  o: TreeLayersOptions,
): Promise<TreeLayers> {
  const result: TreeLayers = { layers: new Array(parts.length), uploaded: 0, files: 0, uncompressedSize: 0 }
  const packing = oneAtATime()
  await forEachLimited(parts, PARTS_IN_FLIGHT, async (part, i) => {
    const spoolDir = path.join(o.spoolDir, `part-${i + 1}`)
    await mkdir(spoolDir, { recursive: true })
    let packed: PackResult | undefined
    const upload = await uploadProducedBlob(
      repo,
      {
        label: part.label,
        produce: async (out, into) => {
          packed = await packing(() => {
            o.onPack?.()
            return part.pack(out, into)
          })
          return part.layer(packed)
        },
      },
      {
        stream: o.stream,
        spoolDir,
        logger: actionsLogger,
        onUpload: part.name ? (desc) => startProgress(`Uploading ${part.name}`, desc.size) : uploadProgress,
      },
    )
    if (upload.streamed) {
      const size = formatBytes(upload.desc.size)
      core.info(
        part.name ? `Uploaded ${part.name} (${size}) while packing` : `Uploaded ${size} while packing`,
      )
    }
    result.layers[i] = upload.desc
    result.uploaded += upload.uploaded
    result.files += (packed as PackResult).files
    result.uncompressedSize += (packed as PackResult).uncompressedSize
  })
  return result
}

/** Runs the works given to it one at a time, in the order given, whether the last failed or not. */
export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve()
  return (work) => {
    const run = last.then(work)
    last = run.catch(() => undefined)
    return run
  }
}
