import * as core from '@actions/core'
import type { Descriptor, Platform } from '../../oci/descriptor.js'
import { platformEntriesOf, type PlatformEntry } from '../../oci/index-merge.js'
import type { BuiltManifest } from '../../oci/manifest.js'
import { isIndexMediaType } from '../../oci/media-types.js'
import { formatPlatform, platformTag } from '../../oci/platform.js'
import { publishPlatformIndex } from '../../oci/platform-publish.js'
import type { Repository } from '../../oci/repository.js'
import { PLATFORM_ANNOTATION } from '../layers/platform.js'
import { actionsLogger } from '../runner/log.js'

export interface PlatformPush {
  platform: Platform
  /** This platform's manifest, also tagged `<tag>-<os>-<arch>` for each tag. */
  manifest: Descriptor
  platformTags: string[]
  /** The first tag's index entries, as this push last confirmed them. */
  entries: PlatformEntry[]
}

export interface PublishedTags {
  /** What the first tag names: the index for a platform push, else the manifest. */
  digest: string
  /** Bytes of the manifest and of the index (the first tag's). */
  size: number
  platform?: PlatformPush
}

export interface PublishOptions {
  platform?: Platform
  overwrite: boolean
  /** The index's annotations (provenance and the user's, as on the manifest). */
  annotations: Record<string, string>
}

/** The annotation that marks a platform push's manifest; empty for a plain push. */
export function platformAnnotations(platform: Platform | undefined): Record<string, string> {
  return platform ? { [PLATFORM_ANNOTATION]: formatPlatform(platform) } : {}
}

/** The tag whose manifest a re-push compares its tree with: its own platform tag on a platform push. */
export function comparedTag(tag: string, platform: Platform | undefined): string {
  return platform ? platformTag(tag, platform) : tag
}

/**
 * Puts the manifest under every tag, or, for a platform push, under each tag's platform tag and
 * into each tag's index. With `overwrite: false` every tag is checked first and nothing is written
 * when one would move to other content.
 */
export async function publishTags(
  repo: Repository,
  manifest: BuiltManifest,
  tags: string[],
  o: PublishOptions,
): Promise<PublishedTags> {
  if (!o.overwrite) for (const tag of tags) await refuseOtherContent(repo, tag, manifest.digest, o.platform)
  if (!o.platform) {
    for (const tag of tags) {
      await repo.putManifest(manifest.bytes, manifest.mediaType, tag)
      core.info(`Tagged ${tag} -> ${manifest.digest}`)
    }
    return { digest: manifest.digest, size: manifest.bytes.length }
  }
  let first: Awaited<ReturnType<typeof publishPlatformIndex>> | undefined
  for (const tag of tags) {
    const published = await publishPlatformIndex(repo, tag, o.platform, manifest, {
      logger: actionsLogger,
      platformKey: PLATFORM_ANNOTATION,
      annotations: o.annotations,
    })
    if (published.rounds > 1) core.info(`${tag}: ${published.rounds} index writes before it settled`)
    first ??= published
  }
  if (!first) throw new Error('no tag to publish')
  return {
    digest: first.index.digest,
    size: manifest.bytes.length + first.index.size,
    platform: {
      platform: o.platform,
      manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length },
      platformTags: tags.map((t) => platformTag(t, o.platform as Platform)),
      entries: first.entries,
    },
  }
}

/**
 * `overwrite: false`: a tag may only gain this push or keep it (a re-run pushes the same manifest,
 * so it passes). With a platform, "the same" is this platform's entry: other platforms may join.
 * Two jobs racing to push different content for the same platform can both pass this check: the
 * registry offers no conditional write to prevent it.
 */
async function refuseOtherContent(
  repo: Repository,
  tag: string,
  digest: string,
  platform: Platform | undefined,
): Promise<void> {
  const refuse = (what: string, held: string) =>
    new Error(
      `tag '${tag}' already holds ${what} ${held}, not this push's ${digest}, and 'overwrite' is false: ` +
        `release tags do not move (push to a new tag, or set overwrite: true to replace it)`,
    )
  const current = await repo.headManifest(tag)
  if (!platform) {
    if (current && current.digest !== digest) throw refuse('other content:', current.digest)
    return
  }
  const name = formatPlatform(platform)
  const own = await repo.headManifest(platformTag(tag, platform))
  if (own && own.digest !== digest) throw refuse(`${name} as`, own.digest)
  if (!current || current.digest === digest) return
  if (!isIndexMediaType(current.mediaType))
    throw refuse('an artifact that is not a platform index:', current.digest)
  const listed = platformEntriesOf((await repo.getManifest(tag)).bytes).find(
    (e) => formatPlatform(e.platform) === name,
  )
  if (listed && listed.manifest.digest !== digest) throw refuse(`${name} as`, listed.manifest.digest)
}
