import * as core from '@actions/core'
import { findCache, loadCacheContents, type CacheMatch } from '../../cache/cache-lookup.js'
import { extractToDirectory } from '../../archive/extract.js'
import { stagePartsAndCommit } from '../../archive/merge.js'
import { PATH_ANNOTATION } from '../../cache/cache-annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { forEachLimited } from '../../oci/layout/for-each-limited.js'
import type { Repository } from '../../oci/repository.js'
import { isWithin } from '../inputs/path-inputs.js'
import { groupParts } from '../layers/tree-parts.js'
import { actionsLogger, describeError, formatBytes, startProgress } from '../runner/log.js'
import { openForPull } from '../runner/registry.js'
import { githubCacheAvailable, restoreFromGitHubCache } from './fallback.js'
import type { CacheInputs } from './inputs.js'
import { pathsVersion, restoreRootOf } from './paths.js'
import { restoreChunkedCache } from './restore-chunked.js'

export interface RestoreOutcome {
  /** The key restored (or, with lookup-only, found); '' when nothing matched */
  matchedKey: string
  source: '' | 'registry' | 'github'
  /** The registry could not be asked at all (unreachable, or the token may not read) */
  registryFailed: boolean
  /** The registry's cache restored (its tag or digest): what the save's chunks are checked against */
  reference?: string
}

/**
 * The registry first. GitHub's cache service is asked when the registry has no exact match (it
 * holds what jobs whose token could not push saved there) and an exact match there beats a
 * partial one in the registry; when the registry has nothing, any match there will do.
 * Every failure is a warning: a cache that cannot be restored is a miss, not a failed job.
 */
export async function restoreCache(inputs: CacheInputs, scopes: string[]): Promise<RestoreOutcome> {
  const where = `${inputs.registry}/${inputs.repository}`
  const repo = openForPull(inputs)
  let match: CacheMatch | undefined
  let registryFailed = false
  try {
    match = await core.group(`Look up the cache in ${where}`, () =>
      findCache(
        repo,
        { scopes, key: inputs.key, restoreKeys: inputs.restoreKeys, version: pathsVersion(inputs.paths) },
        actionsLogger,
      ),
    )
  } catch (error) {
    registryFailed = true
    core.warning(`Could not look up the cache in ${where}: ${describeError(error)}`)
  }

  if (match?.exact && (await restoreFromRegistry(repo, match, inputs))) {
    return { matchedKey: match.key, source: 'registry', registryFailed, reference: match.reference }
  }
  const fromGitHub = await restoreFromFallback(inputs, match ? 'exact' : 'any')
  if (fromGitHub) return { matchedKey: fromGitHub, source: 'github', registryFailed }
  if (match && !match.exact && (await restoreFromRegistry(repo, match, inputs))) {
    return { matchedKey: match.key, source: 'registry', registryFailed, reference: match.reference }
  }
  return { matchedKey: '', source: '', registryFailed }
}

async function restoreFromRegistry(
  repo: Repository,
  match: CacheMatch,
  inputs: CacheInputs,
): Promise<boolean> {
  const how = match.exact ? 'key' : 'restore key'
  const scope = match.scope
  if (inputs.lookupOnly) {
    core.info(`Cache found for ${how} ${match.key} (${scope}); lookup-only: not downloading`)
    return true
  }
  try {
    return await core.group(`Restore ${match.key}`, async () => {
      const started = Date.now()
      const contents = await loadCacheContents(repo, match, pathsVersion(inputs.paths))
      if (contents.format === 'chunked') {
        const restored = await restoreChunkedCache(repo, contents, inputs.paths)
        core.info(
          `Cache restored from ${how} ${match.key} (${scope}): ${restored.files} files, ` +
            `${formatBytes(restored.bytes)} in ${restored.paths} path(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        )
        return true
      }
      const layers = contents.layers
      // every layer's place is known before any download: a layer this job's paths do not name
      // fails the restore before anything is written
      // a path saved as several parts (above max-layer-size) is restored as one, all parts at once
      const groups = groupParts(layers)
      const roots = groups.map((group) => restoreRootOf(group[0] as Descriptor, inputs.paths))
      let files = 0
      let bytes = 0
      const restoreInto = async (layer: Descriptor, into: string) => {
        const progress = startProgress(`Downloading ${layer.digest.slice(0, 19)}`, layer.size)
        const source = await repo.fetchBlob(layer, { onProgress: (n) => progress.add(n) })
        // fetchBlob checks the layer's digest as it streams; a cache keeps the saved mtimes, as
        // actions/cache's tar does: build tools compare them
        const result = await extractToDirectory(source, into, { compression: 'zstd', restoreMtimes: true })
        progress.done()
        files += result.files
        bytes += result.uncompressedSize
        return result
      }
      // Each path is extracted into a staging folder next to it and moved into place when whole:
      // a failure leaves that path as it was, and the paths restored before it restored (the
      // step then reports a miss, and the post step saves every path again).
      // paths inside one another (`~/.cargo` and `~/.cargo/registry`) would merge into each other
      // at once: those go one at a time, in the order of the lines
      const nested = roots.some((a, i) => roots.some((b, j) => i !== j && isWithin(a, b)))
      await forEachLimited(groups, nested ? 1 : RESTORE_CONCURRENCY, async (group, i) => {
        const root = roots[i] as string
        if (group.length === 1) {
          const result = await restoreInto(group[0] as Descriptor, root)
          core.info(`Restored ${root}: ${result.files} files, ${formatBytes(result.uncompressedSize)}`)
          return
        }
        if (
          group.some(
            (layer) => layer.annotations?.[PATH_ANNOTATION] !== group[0]?.annotations?.[PATH_ANNOTATION],
          )
        )
          throw new Error(`the parts of ${root} name different paths`)
        await stagePartsAndCommit(root, group.length, (folders) =>
          forEachLimited(group, RESTORE_CONCURRENCY, async (layer, j) => {
            await restoreInto(layer, folders[j] as string)
          }),
        )
        core.info(`Restored ${root} from ${group.length} parts`)
      })
      core.info(
        `Cache restored from ${how} ${match.key} (${scope}): ${files} files, ${formatBytes(bytes)} ` +
          `in ${groups.length} path(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
      return true
    })
  } catch (error) {
    core.warning(`Could not restore the cache ${match.key} from the registry: ${describeError(error)}`)
    return false
  }
}

// Paths restored at once: each is a download and a zstd stream on the pool.
const RESTORE_CONCURRENCY = 4

/**
 * `exact`: only the primary key itself (the service matches keys as prefixes, so a lookup comes
 * first and anything else is left to the registry's match). `any`: the key and restore keys.
 */
async function restoreFromFallback(
  inputs: CacheInputs,
  wanted: 'exact' | 'any',
): Promise<string | undefined> {
  if (!(await githubCacheAvailable())) return undefined
  try {
    return await core.group("Look up the cache in GitHub's cache service (fallback)", async () => {
      if (wanted === 'any') {
        const key = await restoreFromGitHubCache(
          inputs.paths.lines,
          inputs.key,
          inputs.restoreKeys,
          inputs.lookupOnly,
        )
        if (key)
          core.info(`Cache ${inputs.lookupOnly ? 'found' : 'restored'} from GitHub's cache service: ${key}`)
        return key
      }
      const found = await restoreFromGitHubCache(inputs.paths.lines, inputs.key, [], true)
      if (found !== inputs.key) return undefined
      const key = inputs.lookupOnly
        ? found
        : await restoreFromGitHubCache(inputs.paths.lines, inputs.key, [], false)
      if (key)
        core.info(`Cache ${inputs.lookupOnly ? 'found' : 'restored'} from GitHub's cache service: ${key}`)
      return key
    })
  } catch (error) {
    core.warning(`Could not use GitHub's cache service: ${describeError(error)}`)
    return undefined
  }
}
