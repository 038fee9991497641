import * as core from '@actions/core'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { packDirectory } from '../../archive/pack.js'
import type { PackOptions, PackResult } from '../../archive/types.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import type { Repository } from '../../oci/repository.js'
import { uploadProducedBlob } from '../../oci/upload/produced-upload.js'
import { partAnnotation, partTitle } from '../layers/tree-parts.js'
import { actionsLogger, formatBytes, startProgress } from '../runner/log.js'
import { directoryLayer } from './unchanged-layer.js'

// Parts in flight at once: two uploads keep the link busy while a part's last bytes go up; more
// would only hold more sessions open. Their packs take turns (oneAtATime): a pack already runs on
// every core, and the upload's spill lets the next part pack while the last one's bytes still go
// up. Two packs at once doubled the push's memory (1 GiB in five parts: 206-217 MiB, against 161
// for one layer) for no speed.
const PART_CONCURRENCY = 2

export function oneAtATime(): <T>(work: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve()
  return (work) => {
    const run = last.then(work)
    last = run.catch(() => undefined)
    return run
  }
}

export interface SplitLayers {
  layers: Descriptor[]
  uploaded: number
  files: number
  uncompressedSize: number
}

/**
 * A tree above `max-layer-size` as several layers, one per part (src/archive/split.ts cuts them),
 * each packed straight into its own streamed upload as a lone layer is (falling back to a file the
 * same way). The manifest lists them in tree order, whatever order they finished in.
 */
export async function pushSplitTree(
  repo: Repository,
  root: string,
  title: string,
  parts: string[][],
  packOptions: Omit<PackOptions, 'compression' | 'prefix' | 'select'>,
  spoolDir: string,
): Promise<SplitLayers> {
  const count = parts.length
  core.info(`The tree is larger than max-layer-size: pushing it as ${count} layers`)
  const layers: Descriptor[] = new Array(count)
  let uploaded = 0
  let files = 0
  let uncompressedSize = 0
  const packing = oneAtATime()
  await forEachLimited(parts, PART_CONCURRENCY, async (select, i) => {
    const name = partTitle(title, i, count)
    const spool = path.join(spoolDir, `part-${i + 1}`)
    await mkdir(spool, { recursive: true })
    let packed: PackResult | undefined
    const upload = await uploadProducedBlob(
      repo,
      {
        label: `layer ${name}`,
        produce: async (out) => {
          const started = Date.now()
          packed = await packing(() =>
            packDirectory(root, out, { ...packOptions, compression: 'gzip', prefix: name, select }),
          )
          core.info(
            `Packed ${name}: ${packed.files} entries, ${formatBytes(packed.uncompressedSize)} -> ` +
              `${formatBytes(packed.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${packed.digest}`,
          )
          const layer = directoryLayer(packed, packed.uncompressedDigest as string, name)
          return { ...layer, annotations: { ...layer.annotations, ...partAnnotation(i, count) } }
        },
      },
      {
        stream: true,
        spoolDir: spool,
        logger: actionsLogger,
        onUpload: (desc) => startProgress(`Uploading ${name}`, desc.size),
      },
    )
    if (upload.streamed) core.info(`Uploaded ${name} (${formatBytes(upload.desc.size)}) while packing`)
    layers[i] = upload.desc
    uploaded += upload.uploaded
    files += (packed as PackResult).files
    uncompressedSize += (packed as PackResult).uncompressedSize
  })
  return { layers, uploaded, files, uncompressedSize }
}
