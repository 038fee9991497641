import * as core from '@actions/core'
import { isLayout, pushLayout, readLayout, selectManifests } from '../../oci/layout/index.js'
import { InputError } from '../inputs/readers.js'
import { actionsLogger, startProgress } from '../runner/log.js'
import { openForPush } from '../runner/registry.js'
import type { PushInputs } from './inputs.js'
import { packageUrl } from './provenance.js'
import type { PushResult } from './summary.js'

/** `format: auto` publishes a folder that is an OCI image layout as-is; `directory` never does. */
export async function isLayoutPush(inputs: PushInputs): Promise<boolean> {
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
export async function pushOciLayout(inputs: PushInputs): Promise<PushResult> {
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
