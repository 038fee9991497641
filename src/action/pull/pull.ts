import * as core from '@actions/core'
import { pullToLayout } from '../../oci/layout/index.js'
import { formatPlatform } from '../../oci/platform.js'
import { isWithin } from '../inputs/path-inputs.js'
import { getInputs } from '../inputs/readers.js'
import {
  actionsLogger,
  formatBytes,
  formatRate,
  startProgress,
  summaryTable,
  writeSummary,
} from '../runner/log.js'
import { openForPull } from '../runner/registry.js'
import { parsePullInputs, type PullInputs } from './inputs.js'
import { pullLayers, resolveLayers, type PulledManifest } from './layers.js'
import { runPullMany, type PulledArtifact } from './many.js'

export interface PullResult {
  digest: string
  /** The manifest whose layers landed (an index's entry, else the tag's own manifest) */
  manifest?: PulledManifest
  path: string
  files: number
  size: number
  seconds: number
}

/** mode: pull. Into a directory, or with `format: oci-layout` into an OCI image layout. */
export async function runPull(): Promise<void> {
  const inputs = getInputs(parsePullInputs)
  if (inputs.glob || inputs.allPlatforms) return runPullMany(inputs)
  const reference = `${inputs.registry}/${inputs.repository}${inputs.reference.startsWith('sha256:') ? '@' : ':'}${inputs.reference}`
  const result = inputs.format === 'oci-layout' ? await pullOciLayout(inputs) : await pullDirectory(inputs)
  core.setOutput('digest', result.digest)
  core.setOutput('path', result.path)
  const platform = result.manifest?.platform
  const pulled: PulledArtifact[] = [
    {
      tag: inputs.reference,
      digest: result.manifest?.digest ?? result.digest,
      ...(platform ? { platform: formatPlatform(platform) } : {}),
      path: result.path,
    },
  ]
  core.setOutput('pulled', JSON.stringify(pulled))
  core.info(`Pulled ${reference} (${result.digest}) into ${result.path}`)
  await writeSummary(pullSummary(result, reference))
}

export function pullSummary(result: PullResult, reference: string): string {
  const rows: [string, string][] = [
    ['Reference', `\`${reference}\``],
    ['Digest', `\`${result.digest}\``],
    ['Path', `\`${result.path}\``],
    ['Files', String(result.files)],
    ['Downloaded', formatBytes(result.size)],
    ['Time', `${result.seconds.toFixed(1)} s (${formatRate(result.size, result.seconds)})`],
  ]
  return `## Pulled ${reference}\n\n${summaryTable(rows)}`
}

/** `format: oci-layout` on pull: write (or add to) an OCI image layout at `path`, blobs verified. */
export async function pullOciLayout(inputs: PullInputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.reference
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

/**
 * Resolves the tag or digest, then downloads, verifies and extracts every layer into `inputs.path`.
 * One layer keeps the single-directory rule (a directory's contents land in `path`, a file lands
 * as `path/<title>`); several land as ORAS lays them out, each under its title, and all of them
 * are staged next to `path` first, so a pull that fails at any layer leaves `path` as it was.
 */
export async function pullDirectory(inputs: PullInputs): Promise<PullResult> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const reference = inputs.reference
  const { digest, layers, manifest } = await core.group('Resolve', () =>
    resolveLayers(repo, reference, inputs.platform),
  )
  logOutsideWorkspace(inputs.path)

  const size = layers.reduce((sum, layer) => sum + layer.size, 0)
  const files = await core.group('Download and extract', () => pullLayers(repo, layers, inputs.path))
  return { digest, manifest, path: inputs.path, files, size, seconds: (Date.now() - started) / 1000 }
}

const loggedOutside = new Set<string>()

function logOutsideWorkspace(dest: string): void {
  const workspace = process.env.GITHUB_WORKSPACE
  if (!workspace || isWithin(dest, workspace) || loggedOutside.has(dest)) return
  loggedOutside.add(dest)
  core.info(`path is outside the workspace: pulling into ${dest}`)
}
