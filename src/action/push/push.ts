import * as core from '@actions/core'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { packDirectory } from '../../archive/pack.js'
import { splitTree } from '../../archive/split.js'
import type { PackOptions, PackResult } from '../../archive/types.js'
import { Annotation } from '../../oci/annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG } from '../../oci/manifest.js'
import type { Repository } from '../../oci/repository.js'
import { getInputs } from '../inputs/readers.js'
import { fileLayers, type LayerBlob } from '../layers/file-layers.js'
import { partAnnotation, partTitle } from '../layers/tree-parts.js'
import { uploadTreeLayers, type TreePart } from '../layers/tree-layers.js'
import { formatBytes, writeSummary } from '../runner/log.js'
import { openForPush, pushBlobIfMissing } from '../runner/registry.js'
import { parsePushInputs, type PushInputs } from './inputs.js'
import { isLayoutPush, pushOciLayout } from './layout.js'
import { packageUrl, provenanceAnnotations, sourceDateEpoch } from './provenance.js'
import { comparedTag, platformAnnotations, publishTags } from './publish-tags.js'
import { findPushSource, noFilesFound } from './source.js'
import { pushSummary, type PushResult } from './summary.js'
import { directoryLayer, unchangedLayer } from './unchanged-layer.js'

/** mode: push. A folder that is an OCI image layout goes up as it is; anything else as layers. */
export async function runPush(): Promise<void> {
  const inputs = getInputs(parsePushInputs)
  const result = (await isLayoutPush(inputs)) ? await pushOciLayout(inputs) : await pushDirectory(inputs)
  // nothing matched `path` and if-no-files-found let the step go on
  if (!result) return
  core.setOutput('digest', result.digest)
  core.setOutput('ref', result.ref)
  if (result.platform) core.setOutput('platform-digest', result.platform.manifest.digest)
  core.setOutput('tags', result.tags.join(','))
  core.setOutput('size', String(result.size))
  if (result.url) core.setOutput('url', result.url)
  core.info(`Pushed ${result.ref} (tags: ${result.tags.join(', ')})`)
  await writeSummary(pushSummary(result, inputs))
}

/**
 * Pushes what `path` names: one directory or a selection as one tar+gzip layer, a lone file (or,
 * with `format: files`, each file) as a layer of its own bytes; then publishes under every tag.
 * Undefined when `path` matched nothing and `if-no-files-found` is not `error`.
 */
export async function pushDirectory(
  inputs: PushInputs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PushResult | undefined> {
  const started = Date.now()
  const source = await core.group('Find the files', () => findPushSource(inputs))
  if (source.kind === 'none') return noFilesFound(inputs)
  // Windows has no exec bit (Node reports every file 0666), so nothing marks a binary cross-built
  // here for Linux as executable: said where users look, as upload-artifact keeps no modes either
  if (process.platform === 'win32')
    core.info(
      'Windows keeps no exec bit: every file is stored 0644 (run chmod +x after a pull on Linux or macOS)',
    )
  const temp = await mkdtemp(path.join(env.RUNNER_TEMP || os.tmpdir(), 'oci-artifact-'))
  try {
    const repo = openForPush(inputs)
    const content =
      source.kind === 'files'
        ? await core.group('Hash the files', async () => filesContent(await fileLayers(source.files)))
        : await treeContent(repo, inputs, source, temp, env, started)
    const layers = content.kind === 'files' ? content.blobs.map((blob) => blob.descriptor) : content.layers
    const annotations = provenanceAnnotations(env, inputs.annotations)
    const manifest = buildManifest({
      artifactType: inputs.artifactType,
      config: EMPTY_CONFIG,
      layers,
      annotations: { ...annotations, ...platformAnnotations(inputs.platform) },
    })

    const uploaded = await core.group('Upload', async () => {
      let sent = await pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      if (content.kind === 'tree') return sent + content.uploaded
      for (const blob of content.blobs) sent += await pushBlobIfMissing(repo, blob.descriptor, blob.open)
      return sent
    })
    const published = await core.group('Tag', () =>
      publishTags(repo, manifest, inputs.tags, {
        platform: inputs.platform,
        overwrite: inputs.overwrite,
        annotations,
      }),
    )
    return {
      digest: published.digest,
      ref: `${inputs.registry}/${inputs.repository}@${published.digest}`,
      tags: inputs.tags,
      size: EMPTY_CONFIG.size + layers.reduce((sum, l) => sum + l.size, 0) + published.size,
      uploaded,
      url: packageUrl(inputs.registry, inputs.repository),
      layers,
      platform: published.platform,
      files: content.kind === 'files' ? content.blobs.length : content.files,
      uncompressedSize: content.kind === 'files' ? undefined : content.uncompressedSize,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

/**
 * What a push lists in its manifest: a tree's layers, already in the registry once this is known
 * (sent while packed, or the tag's own layer reused), or files, each still to upload.
 */
type PushContent =
  | { kind: 'tree'; layers: Descriptor[]; uploaded: number; files?: number; uncompressedSize?: number }
  | { kind: 'files'; blobs: LayerBlob[] }

function filesContent(blobs: LayerBlob[]): PushContent {
  for (const blob of blobs)
    core.info(`${blob.descriptor.annotations?.[Annotation.Title]}: ${blob.descriptor.digest}`)
  return { kind: 'files', blobs }
}

/**
 * The directory or selection as one tar+gzip layer (or, above max-layer-size, several), or the
 * tag's layer when the tree is unchanged (then nothing is packed or sent). Otherwise each layer is
 * packed straight into a streamed upload (layers/tree-layers.ts, the cache save's path too): the
 * push takes about the longer of pack and upload, not their sum. On disk goes only what the wire
 * has not taken yet (the spool folder, so the pack can run ahead: spill-buffer.ts), or the whole
 * layer when the stream fails (then it packs again into a file and sends that with retries; the
 * pack is reproducible).
 *
 * A new tag whose tree the registry already holds under another tag cannot be told apart from new
 * content without compressing it first, since the digest is the compressed bytes'. We stream
 * anyway: the registry dedups by digest at the commit, so such a push costs upload bandwidth, not
 * time (the upload runs alongside the pack it needs in either order), while packing first would
 * add the whole upload's time to every push of new content, the common case.
 */
async function treeContent(
  repo: Repository,
  inputs: PushInputs,
  source: { kind: 'directory'; root: string } | { kind: 'selection'; root: string; select: string[] },
  spoolDir: string,
  env: NodeJS.ProcessEnv,
  started: number,
): Promise<PushContent> {
  // The layer's title is the directory's name, as `oras push DIR` names it.
  const title = path.basename(source.root) || 'artifact'
  const packOptions = {
    level: inputs.compressionLevel,
    includeGit: inputs.includeGit,
    includeHidden: inputs.includeHiddenFiles,
    mtime: sourceDateEpoch(env),
  }
  const reused = await core.group('Compare with the tag', () =>
    unchangedLayer(repo, comparedTag(inputs.tags[0] as string, inputs.platform), source.root, title, {
      ...packOptions,
      prefix: title,
      select: source.kind === 'selection' ? source.select : undefined,
    }),
  )
  if (reused) return { kind: 'tree', layers: [reused], uploaded: 0 }
  // Below max-layer-size (nearly every tree): exactly the one layer `oras push DIR` makes. A tree
  // the tag holds as parts is not compared above (that shortcut knows one layer): it is packed anew.
  const select = source.kind === 'selection' ? source.select : undefined
  const cut = splitTree(source.root, inputs.maxLayerSize, { ...packOptions, select })
  const parts = cut
    ? splitParts(source.root, title, cut, packOptions)
    : [wholeTree(source.root, title, { ...packOptions, select }, started)]
  const upload = () => uploadTreeLayers(repo, parts, { stream: true, spoolDir })
  const sent = cut
    ? await core.group(`Pack and upload ${parts.length} layers`, () => {
        core.info(`The tree is larger than max-layer-size: pushing it as ${parts.length} layers`)
        return upload()
      })
    : await upload()
  return { kind: 'tree', ...sent }
}

type TreePackOptions = Omit<PackOptions, 'compression' | 'prefix' | 'select'>

/** The tree as the one layer `oras push DIR` makes, its pack in a log group of its own. */
function wholeTree(
  root: string,
  title: string,
  options: TreePackOptions & { select?: string[] },
  started: number,
): TreePart {
  return {
    label: `the layer of ${root}`,
    pack: (out, into) =>
      core.group(into === 'upload' ? 'Pack and upload' : 'Pack', async () => {
        const packed = await packDirectory(root, out, { ...options, compression: 'gzip', prefix: title })
        core.info(describePack(packed, (Date.now() - started) / 1000))
        return packed
      }),
    // packed with the tar's hash (hashTar defaults to true)
    layer: (packed) => directoryLayer(packed, packed.uncompressedDigest as string, title),
  }
}

/**
 * A tree above `max-layer-size` as several layers, one per part (src/archive/split.ts cuts them),
 * each an ORAS directory layer titled `<title>.part-<i>-of-<n>`; the manifest lists them in tree
 * order, whatever order they finished in.
 */
function splitParts(root: string, title: string, cut: string[][], options: TreePackOptions): TreePart[] {
  return cut.map((select, i) => {
    const name = partTitle(title, i, cut.length)
    return {
      label: `layer ${name}`,
      name,
      pack: async (out) => {
        const started = Date.now()
        const packed = await packDirectory(root, out, {
          ...options,
          compression: 'gzip',
          prefix: name,
          select,
        })
        core.info(
          `Packed ${name}: ${packed.files} entries, ${formatBytes(packed.uncompressedSize)} -> ` +
            `${formatBytes(packed.size)} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${packed.digest}`,
        )
        return packed
      },
      layer: (packed) => {
        const layer = directoryLayer(packed, packed.uncompressedDigest as string, name)
        return { ...layer, annotations: { ...layer.annotations, ...partAnnotation(i, cut.length) } }
      },
    }
  })
}

function describePack(result: PackResult, seconds: number): string {
  const ratio = result.uncompressedSize > 0 ? (result.size / result.uncompressedSize).toFixed(3) : '1'
  return (
    `Packed ${result.files} entries, ${result.uncompressedSize} bytes -> ${result.size} bytes ` +
    `(ratio ${ratio}) in ${seconds.toFixed(1)} s: layer ${result.digest}`
  )
}
