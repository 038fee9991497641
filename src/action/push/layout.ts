import * as core from '@actions/core'
import { isLayout, pullToLayout, pushLayout, readLayout, selectManifests } from '../oci/layout/index.js'
import { InputError, type Inputs } from './inputs.js'
import { actionsLogger } from './logger.js'
import { packageUrl } from './package-url.js'
import { startProgress } from './progress.js'
import type { PullResult } from './pull.js'
import type { PushResult } from './push.js'
import { openForPull, openForPush } from './registry.js'

/** `format: auto` publishes a folder that is an OCI image layout as-is; `directory` never does. */
export async function isLayoutPush(inputs: Inputs): Promise<boolean> {
  if (inputs.format === 'oci-layout') return true
  if (inputs.format === 'directory' || inputs.format === 'files') return false
  // only a folder named as it is: globs and exclusions select files to pack
  const [only, ...more] = inputs.paths.includes
  if (!only?.literal || more.length > 0 || inputs.paths.excludes.length > 0) return false
  return isLayout(inputs.path)
}

/**
 * Publishes an OCI image layout byte for byte: the manifest digest in the registry is the one in
 * index.json. With no tag input, a manifest keeps its own ref name as its tag (as `skopeo copy
 * oci:DIR:NAME` would publish it); a lone unnamed manifest gets the default run tag.
 */
export async function pushOciLayout(inputs: Inputs): Promise<PushResult> {
  const started = Date.now()
  // A layout is published byte for byte, its own index included: neither can apply to it.
  if (inputs.platform)
    throw new InputError('platform', `${inputs.path} is an OCI image layout, published as it is`)
  if (!inputs.overwrite) throw new InputError('overwrite', `false is not supported for OCI image layouts yet`)
  const layout = await readLayout(inputs.path)
  const roots = selectManifests(layout, inputs.tagGiven ? inputs.tags[0] : undefined)
  const unnamedAlone = roots.length === 1 && roots[0]?.name === undefined
  const tags = inputs.tagGiven || unnamedAlone ? inputs.tags : []
  core.info(`${inputs.path} is an OCI image layout: publishing ${roots.length} manifest(s) as they are`)

  const repo = openForPush(inputs)
  let progress: ReturnType<typeof startProgress> | undefined
  let uploaded = 0
  let total = 0
  const pushed = await core.group('Upload', () =>
    pushLayout(layout, repo, roots, tags, {
      logger: actionsLogger,
      onStart: (plan) => {
        uploaded = plan.uploadBytes
        total = plan.totalBytes
        core.info(
          `${plan.uploadBlobs} blob(s) to upload (${plan.uploadBytes} bytes), ${plan.skippedBlobs} already there`,
        )
        progress = startProgress('Uploading layout blobs', plan.uploadBytes)
      },
      onProgress: (bytes) => progress?.add(bytes),
    }),
  )
  progress?.done()
  const first = pushed[0]
  if (!first) throw new Error(`${inputs.path}: no manifest was selected`)
  for (const root of pushed) core.info(`Pushed ${root.digest} as ${root.tags.join(', ') || '(digest only)'}`)
  return {
    digest: first.digest,
    ref: `${inputs.registry}/${inputs.repository}@${first.digest}`,
    tags: pushed.flatMap((root) => root.tags),
    size: total + pushed.reduce((sum, root) => sum + root.size, 0),
    uploaded,
    url: packageUrl(inputs.registry, inputs.repository),
    seconds: (Date.now() - started) / 1000,
  }
}

/** `format: oci-layout` on pull: write (or add to) an OCI image layout at `path`, blobs verified. */
export async function pullOciLayout(inputs: Inputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.tags[0] as string
  const progress = startProgress(`Downloading ${reference}`)
  const pulled = await core.group('Download into an OCI layout', () =>
    pullToLayout(repo, reference, inputs.path, {
      logger: actionsLogger,
      onProgress: (bytes) => progress.add(bytes),
    }),
  )
  progress.done()
  core.info(
    `Wrote ${pulled.digest} into the OCI layout ${inputs.path}` +
      (pulled.refName ? ` as ${pulled.refName}` : '') +
      ` (${pulled.blobs} blobs, ${pulled.reusedBlobs} already there)`,
  )
  return {
    digest: pulled.digest,
    path: inputs.path,
    files: pulled.blobs,
    size: pulled.downloadedBytes,
    seconds: (Date.now() - started) / 1000,
  }
}
