import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { windowsNameProblem } from '../../archive/windows-names.js'
import { Annotation } from '../../oci/annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { MediaType } from '../../oci/media-types.js'

// A file is pushed as `oras push FILE` pushes it: the layer is the file's own bytes, of oras-go's
// default media type for files (ocispec.MediaTypeImageLayer), titled with its name and without the
// unpack annotation, so `curl .../blobs/<digest> -o NAME` gives the file and `oras pull` saves it
// under its name. ORAS keeps no mode; ours goes in this annotation, which our pull restores.
export const FILE_MODE_ANNOTATION = 'io.github.oci-artifact-action.file.mode'
export const FILE_LAYER_MEDIA_TYPE = MediaType.LayerTar

/** A layer to upload: what the manifest lists, and how to read its bytes (again, for a retry). */
export interface LayerBlob {
  descriptor: Descriptor
  open: () => Readable
}

/** One layer per file, in the order given; each file is read once here to hash it. */
export async function fileLayers(files: string[]): Promise<LayerBlob[]> {
  const layers: LayerBlob[] = []
  for (const file of files) layers.push(await fileLayer(file))
  return layers
}

async function fileLayer(file: string): Promise<LayerBlob> {
  const hash = createHash('sha256')
  let size = 0
  await pipeline(createReadStream(file), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      hash.update(chunk)
      size += chunk.length
    }
  })
  const descriptor: Descriptor = {
    mediaType: FILE_LAYER_MEDIA_TYPE,
    digest: `sha256:${hash.digest('hex')}`,
    size,
    annotations: {
      [Annotation.Title]: path.basename(file),
      // as git records modes (and as the tar layers do): executable by the owner or not
      [FILE_MODE_ANNOTATION]: statSync(file).mode & 0o100 ? '0755' : '0644',
    },
  }
  return { descriptor, open: () => createReadStream(file) }
}

/**
 * A layer's title as a file name to write: one plain path component, nothing a file system could
 * read as a path or a device. The title comes from the registry, so it is checked like an archive
 * entry. `windows` adds Windows' rules (the default on Windows; unit tests check them anywhere).
 */
export function safeFileTitle(title: string, windows = process.platform === 'win32'): string {
  const refuse = (why: string) => new Error(`layer title '${title}' ${why}: refusing to write it`)
  if (title === '' || title === '.' || title === '..') throw refuse('is not a file name')
  if (/[/\\\0]/.test(title)) throw refuse('is not a single path component')
  const problem = windows ? windowsNameProblem(title) : undefined
  if (problem) throw refuse(problem)
  return title
}

/** The mode a file layer's annotation gives (0644 when absent or unreadable). */
export function fileModeOf(layer: Descriptor): number {
  return layer.annotations?.[FILE_MODE_ANNOTATION] === '0755' ? 0o755 : 0o644
}
