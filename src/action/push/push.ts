import * as core from '@actions/core'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable, type Writable } from 'node:stream'
import { packDirectory } from '../../archive/pack.js'
import { splitTree } from '../../archive/split.js'
import type { PackResult } from '../../archive/types.js'
import { Annotation } from '../../oci/annotations.js'
import { buildManifest, EMPTY_CONFIG } from '../../oci/manifest.js'
import { Repository } from '../../oci/repository.js'
import { uploadProducedBlob } from '../../oci/upload/produced-upload.js'
import { getInputs } from '../inputs/readers.js'
import { fileLayers, type LayerBlob } from '../layers/file-layers.js'
import { actionsLogger, formatBytes, startProgress, writeSummary } from '../runner/log.js'
import { openForPush, pushBlobIfMissing } from '../runner/registry.js'
import { parsePushInputs, type PushInputs } from './inputs.js'
import { isLayoutPush, pushOciLayout } from './layout.js'
import { packageUrl, provenanceAnnotations, sourceDateEpoch } from './provenance.js'
import { comparedTag, platformAnnotations, publishTags } from './publish-tags.js'
import { findPushSource, noFilesFound } from './source.js'
import { pushSplitTree } from './split-push.js'
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
        : await treeLayer(repo, inputs, source, temp, env, started)
    const layers = content.blobs.map((blob) => blob.descriptor)
    const annotations = provenanceAnnotations(env, inputs.annotations)
    const manifest = buildManifest({
      artifactType: inputs.artifactType,
      config: EMPTY_CONFIG,
      layers,
      annotations: { ...annotations, ...platformAnnotations(inputs.platform) },
    })

    const uploaded = await core.group('Upload', async () => {
      let sent = 0
      sent += await pushBlobIfMissing(repo, EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
      // a tree's layer went up while it was packed (or was the tag's own, already there)
      if (content.tarLayer) return sent + (content.uploaded ?? 0)
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
      files: content.files,
      uncompressedSize: content.uncompressedSize,
      seconds: (Date.now() - started) / 1000,
    }
  } finally {
    await rm(temp, { recursive: true, force: true })
  }
}

interface PushContent {
  blobs: LayerBlob[]
  /** A directory as tar+gzip layers (one, or its parts); otherwise every layer is a file */
  tarLayer: boolean
  /** Bytes of the tree's layer sent while packing (0: the tag's own layer, or one the registry had) */
  uploaded?: number
  files?: number
  uncompressedSize?: number
}

function filesContent(blobs: LayerBlob[]): PushContent {
  for (const blob of blobs)
    core.info(`${blob.descriptor.annotations?.[Annotation.Title]}: ${blob.descriptor.digest}`)
  return { blobs, tarLayer: false, files: blobs.length, uncompressedSize: undefined }
}

/**
 * The directory or selection as one tar+gzip layer, or the tag's layer when the tree is unchanged
 * (then nothing is packed or sent). Otherwise the layer is packed straight into a streamed upload
 * (src/oci/upload/produced-upload.ts, the cache save's path too): the push takes about the longer
 * of pack and upload, not their sum. On disk goes only what the wire has not taken yet (the spool
 * folder, so the pack can run ahead: spill-buffer.ts), or the whole layer when the stream fails
 * (then it packs again into a file and sends that with retries; the pack is reproducible).
 *
 * A new tag whose tree the registry already holds under another tag cannot be told apart from new
 * content without compressing it first, since the digest is the compressed bytes'. We stream
 * anyway: the registry dedups by digest at the commit, so such a push costs upload bandwidth, not
 * time (the upload runs alongside the pack it needs in either order), while packing first would
 * add the whole upload's time to every push of new content, the common case.
 */
async function treeLayer(
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
    prefix: title,
    includeGit: inputs.includeGit,
    includeHidden: inputs.includeHiddenFiles,
    select: source.kind === 'selection' ? source.select : undefined,
    mtime: sourceDateEpoch(env),
  }
  const reused = await core.group('Compare with the tag', () =>
    unchangedLayer(
      repo,
      comparedTag(inputs.tags[0] as string, inputs.platform),
      source.root,
      title,
      packOptions,
    ),
  )
  if (reused)
    return { blobs: [{ descriptor: reused, open: () => Readable.from([]) }], tarLayer: true, uploaded: 0 }
  // Below max-layer-size (nearly every tree): exactly the one layer `oras push DIR` makes. A tree
  // the tag holds as parts is not compared above (that shortcut knows one layer): it is packed anew.
  const parts = splitTree(source.root, inputs.maxLayerSize, packOptions)
  if (parts) {
    const split = await core.group(`Pack and upload ${parts.length} layers`, () =>
      pushSplitTree(repo, source.root, title, parts, packOptions, spoolDir),
    )
    return {
      blobs: split.layers.map((descriptor) => ({ descriptor, open: () => Readable.from([]) })),
      tarLayer: true,
      uploaded: split.uploaded,
      files: split.files,
      uncompressedSize: split.uncompressedSize,
    }
  }
  let packed: PackResult | undefined
  const pack = (out: Writable) => packDirectory(source.root, out, { compression: 'gzip', ...packOptions })
  const upload = await uploadProducedBlob(
    repo,
    {
      label: `the layer of ${source.root}`,
      produce: async (out, into) => {
        packed = await core.group(into === 'upload' ? 'Pack and upload' : 'Pack', async () => {
          const result = await pack(out)
          core.info(describePack(result, (Date.now() - started) / 1000))
          return result
        })
        // packed with the tar's hash (hashTar defaults to true)
        return directoryLayer(packed, packed.uncompressedDigest as string, title)
      },
    },
    {
      stream: true,
      spoolDir,
      logger: actionsLogger,
      onUpload: (desc) => startProgress(`Uploading ${desc.digest.slice(0, 19)}`, desc.size),
    },
  )
  if (upload.streamed) core.info(`Uploaded ${formatBytes(upload.desc.size)} while packing`)
  const done = packed as PackResult
  return {
    blobs: [{ descriptor: upload.desc, open: () => Readable.from([]) }],
    tarLayer: true,
    uploaded: upload.uploaded,
    files: done.files,
    uncompressedSize: done.uncompressedSize,
  }
}

function describePack(result: PackResult, seconds: number): string {
  const ratio = result.uncompressedSize > 0 ? (result.size / result.uncompressedSize).toFixed(3) : '1'
  return (
    `Packed ${result.files} entries, ${result.uncompressedSize} bytes -> ${result.size} bytes ` +
    `(ratio ${ratio}) in ${seconds.toFixed(1)} s: layer ${result.digest}`
  )
}
