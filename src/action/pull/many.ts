import * as core from '@actions/core'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { stageAndCommit, stagePartsAndCommit } from '../../archive/merge.js'
import { overlappingEntries } from '../../archive/overlaps.js'
import type { Descriptor, Platform } from '../../oci/descriptor.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import { isIndexMediaType } from '../../oci/media-types.js'
import { formatPlatform, platformEntries } from '../../oci/platform.js'
import type { Repository } from '../../oci/repository.js'
import { matchTagList } from '../../oci/tag-glob.js'
import { safeFileTitle } from '../layers/file-layers.js'
import { formatBytes, formatRate, summaryTable, writeSummary } from '../runner/log.js'
import { openForPull } from '../runner/registry.js'
import type { PullInputs } from './inputs.js'
import { extractableLayers, indexEntries, pullLayers, resolveLayers } from './layers.js'

// 256: the most jobs one matrix makes (GitHub's limit), so a glob over a matrix's tags always fits;
// a pattern that matches more most likely matches what it was not meant to.
export const MAX_TAG_MATCHES = 256
// Artifacts downloaded at once; each may download its own layers concurrently too.
const ARTIFACT_CONCURRENCY = 4
// Manifests read at once while resolving: small requests, which a registry answers in parallel.
const RESOLVE_CONCURRENCY = 8
// Files named one by one in the log when merge-multiple replaces some; the rest are counted.
const OVERLAPS_LOGGED = 100

/** One artifact of a pull of several: what it is, and where it landed. */
export interface PulledArtifact {
  tag: string
  /** The manifest whose layers landed there */
  digest: string
  platform?: string
  path: string
}

export interface ManyPullResult {
  /** The index, when one tag was pulled with platform: all */
  digest?: string
  path: string
  pulled: PulledArtifact[]
  files: number
  size: number
  seconds: number
}

/** A tag glob, platform: all, or both: several artifacts in one step, and the `pulled` output. */
export async function runPullMany(inputs: PullInputs): Promise<void> {
  const result = await pullMany(inputs)
  if (!result) {
    core.setOutput('pulled', '[]')
    return
  }
  if (result.digest) core.setOutput('digest', result.digest)
  core.setOutput('path', result.path)
  core.setOutput('pulled', JSON.stringify(result.pulled))
  const where = `${inputs.registry}/${inputs.repository}`
  core.info(`Pulled ${result.pulled.length} artifacts of ${where} into ${result.path}`)
  await writeSummary(manyPullSummary(result, where))
}

/** Markdown for the job summary of a pull of several artifacts: what landed where. */
export function manyPullSummary(result: ManyPullResult, where: string): string {
  const rows: [string, string][] = [['Repository', `\`${where}\``]]
  if (result.digest) rows.push(['Index', `\`${result.digest}\``])
  rows.push(
    ['Path', `\`${result.path}\``],
    ['Files', String(result.files)],
    ['Downloaded', formatBytes(result.size)],
    ['Time', `${result.seconds.toFixed(1)} s (${formatRate(result.size, result.seconds)})`],
  )
  const lines = result.pulled.map(
    (p) => `| \`${p.tag}\` | ${p.platform ? `\`${p.platform}\`` : '-'} | \`${p.digest}\` | \`${p.path}\` |`,
  )
  return (
    `## Pulled ${result.pulled.length} artifacts from ${where}\n\n${summaryTable(rows)}\n` +
    `| Tag | Platform | Manifest | Path |\n|---|---|---|---|\n${lines.join('\n')}\n`
  )
}

/**
 * An artifact to pull: its layers, and its folder below `path` (empty: `path` itself); with
 * merge-multiple, below its match's own folder, which is merged into `path`.
 */
interface Unit {
  tag: string
  /** Which match it came from, for merge-multiple */
  match: number
  digest: string
  platform?: Platform
  layers: Descriptor[]
  folder: string[]
}

/**
 * A pull of several artifacts: every tag a glob matches, every platform of an index, or both.
 * Everything is resolved first (tags, manifests: no download yet), then every artifact is
 * downloaded, verified and extracted into one staging folder next to `path`, several at once, and
 * moved into place only when all passed: either every artifact lands, or none. Returns undefined
 * when a glob matched nothing and if-no-files-found let the step go on.
 */
export async function pullMany(inputs: PullInputs): Promise<ManyPullResult | undefined> {
  const started = Date.now()
  const repo = openForPull(inputs)
  const where = `${inputs.registry}/${inputs.repository}`
  const given = inputs.reference

  const tags = inputs.glob ? await matchTags(repo, given, where, inputs) : [given]
  if (tags.length === 0) return undefined
  const { units, tops } = await core.group('Resolve', () => resolveUnits(repo, tags, inputs))
  const merge = inputs.glob && inputs.mergeMultiple

  const size = units.reduce((sum, u) => sum + u.layers.reduce((s, l) => s + l.size, 0), 0)
  let files = 0
  await core.group(`Download and extract ${units.length} artifacts`, async () => {
    const pullUnit = async (unit: Unit, into: string) => {
      const folder = unit.folder
      // the tag's folder first, so that concurrent platforms below it never race to create it
      if (folder.length > 1) mkdirSync(path.join(into, ...folder.slice(0, -1)), { recursive: true })
      files += await pullLayers(repo, unit.layers, path.join(into, ...folder))
    }
    if (!merge) {
      await stageAndCommit(inputs.path, (staging) =>
        forEachLimited(units, ARTIFACT_CONCURRENCY, (unit) => pullUnit(unit, staging)),
      )
      return
    }
    // each match into a folder of its own, then merged in the matches' order: the later wins
    await stagePartsAndCommit(inputs.path, tags.length, async (folders) => {
      await forEachLimited(units, ARTIFACT_CONCURRENCY, (unit) =>
        pullUnit(unit, folders[unit.match] as string),
      )
      logOverlaps(folders, tags)
    })
  })

  const pulled = units.map((unit) => ({
    tag: unit.tag,
    digest: unit.digest,
    ...(unit.platform ? { platform: formatPlatform(unit.platform) } : {}),
    path: path.join(inputs.path, ...unit.folder),
  }))
  // one tag's index (platform: all) has a digest to name; several tags do not
  const digest = inputs.glob ? undefined : tops[0]
  return { digest, path: inputs.path, pulled, files, size, seconds: (Date.now() - started) / 1000 }
}

async function matchTags(
  repo: Repository,
  pattern: string,
  where: string,
  inputs: PullInputs,
): Promise<string[]> {
  const tags = matchTagList(await repo.listTags(), pattern, MAX_TAG_MATCHES)
  if (tags.length > 0) {
    core.info(`'${pattern}' matches ${tags.length} tags: ${tags.join(', ')}`)
    return tags
  }
  // upload-artifact's three answers to a path that matches nothing, for a tag glob
  const message = `No tag of ${where} matches '${pattern}'. Nothing was pulled.`
  if (inputs.ifNoFilesFound === 'error') throw new Error(message)
  if (inputs.ifNoFilesFound === 'warn') core.warning(message)
  else core.info(message)
  return []
}

/**
 * Every artifact to pull, in the matches' order, with its folder: `<tag>/` for a glob's match,
 * `<os>-<arch>/` (below it) for platform: all. Manifests are read several at once: a glob of a
 * whole matrix is hundreds of small requests before the first download.
 */
async function resolveUnits(
  repo: Repository,
  tags: string[],
  inputs: PullInputs,
): Promise<{ units: Unit[]; tops: string[] }> {
  const resolved: { units: Unit[]; top: string }[] = []
  await forEachLimited(tags, RESOLVE_CONCURRENCY, async (tag, match) => {
    resolved[match] = await resolveTag(repo, tag, match, inputs)
  })
  return { units: resolved.flatMap((r) => r.units), tops: resolved.map((r) => r.top) }
}

async function resolveTag(
  repo: Repository,
  tag: string,
  match: number,
  inputs: PullInputs,
): Promise<{ units: Unit[]; top: string }> {
  // with merge-multiple every match lands in path itself, so no folder is named after its tag
  const tagFolder = inputs.glob && !inputs.mergeMultiple ? [tagFolderName(tag)] : []
  if (!inputs.allPlatforms) {
    const { digest, layers, manifest } = await resolveLayers(repo, tag, inputs.platform)
    const unit = {
      tag,
      match,
      digest: manifest.digest,
      platform: manifest.platform,
      layers,
      folder: tagFolder,
    }
    return { units: [unit], top: digest }
  }
  const top = await repo.getManifest(tag)
  if (!isIndexMediaType(top.mediaType)) {
    throw new Error(`${tag} is not an image index (${top.mediaType}): platform: all takes every entry of one`)
  }
  const entries = platformEntries(indexEntries(top.bytes, tag), tag)
  core.info(`${tag} (${top.digest}): ${entries.map((e) => e.folder).join(', ')}`)
  const units: Unit[] = []
  for (const { entry, platform, folder } of entries) {
    const manifest = await repo.getManifest(entry.digest)
    const layers = extractableLayers(manifest, `${tag} (${formatPlatform(platform)})`)
    units.push({ tag, match, digest: manifest.digest, platform, layers, folder: [...tagFolder, folder] })
  }
  return { units, top: top.digest }
}

/** A tag as a folder name: tags are plain names, but Windows refuses a few (`con`, a trailing dot). */
function tagFolderName(tag: string): string {
  try {
    return safeFileTitle(tag)
  } catch (error) {
    throw new Error(
      `the tag ${tag} cannot be a folder name on this runner: set merge-multiple or narrow the glob`,
      {
        cause: error,
      },
    )
  }
}

/** merge-multiple: each file several matches hold, and which one wins (the last, as merged). */
function logOverlaps(folders: string[], tags: string[]): void {
  const overlaps = overlappingEntries(folders)
  if (overlaps.length === 0) return
  core.info(`merge-multiple: ${overlaps.length} path(s) are in more than one artifact; the later tag wins:`)
  for (const { path: file, holders } of overlaps.slice(0, OVERLAPS_LOGGED)) {
    const names = holders.map((i) => tags[i] as string)
    core.info(`${file}: in ${names.slice(0, -1).join(', ')} and ${names.at(-1)}; ${names.at(-1)} wins`)
  }
  if (overlaps.length > OVERLAPS_LOGGED) core.info(`... and ${overlaps.length - OVERLAPS_LOGGED} more`)
}
