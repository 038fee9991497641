import type { Platform } from '../../oci/descriptor.js'
import { InvalidPlatformError, parsePlatform, platformTagSuffixLength } from '../../oci/platform.js'
import { isValidTag } from '../../oci/reference.js'
import { isTagGlob, isValidTagGlob } from '../../oci/tag-glob.js'
import { InputError } from './readers.js'

// 128: the distribution spec's longest tag, which each platform tag `<tag>-<os>-<arch>` must fit.
const MAX_TAG_LENGTH = 128
const DIGEST = /^sha256:[a-f0-9]{64}$/

/** The `tag` input's tags (commas or lines), or the run's default tag when it is empty. */
function givenOrDefault(value: string, env: NodeJS.ProcessEnv): string[] {
  const given = value
    .split(/[,\n]/)
    .map((t) => t.trim())
    .filter(Boolean)
  // The default pairs a push and a later pull in the same workflow run: the run id is shared by
  // every job of the run and by its re-runs, so a re-run pull job still finds the first push.
  return given.length > 0 ? given : [env.GITHUB_RUN_ID ? `run-${env.GITHUB_RUN_ID}` : 'latest']
}

function refuseInvalidTags(tags: string[]): void {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new InputError(
        'tag',
        `'${tag}' is not a valid tag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`,
      )
    }
  }
}

/** push: every tag to set, duplicates dropped. */
export function readPushTags(value: string, env: NodeJS.ProcessEnv): string[] {
  const tags = givenOrDefault(value, env)
  refuseInvalidTags(tags)
  return [...new Set(tags)]
}

/** pull: the one tag, sha256: digest, or glob over tags (`reports-*`, no tag holds `* ? [`) to pull. */
export function readPullReference(
  value: string,
  env: NodeJS.ProcessEnv,
): { reference: string; glob: boolean } {
  const tags = givenOrDefault(value, env)
  if (tags.length > 1)
    throw new InputError('tag', `pull takes one tag, digest or glob, got '${value.trim()}'`)
  const ref = tags[0] as string
  if (ref.startsWith('sha256:')) {
    if (!DIGEST.test(ref))
      throw new InputError('tag', `'${ref}' is not a sha256 digest (64 lowercase hex digits)`)
    return { reference: ref, glob: false }
  }
  if (isTagGlob(ref)) {
    if (!isValidTagGlob(ref))
      throw new InputError('tag', `'${ref}' is not a glob over tags (tag characters and * ? [ ])`)
    return { reference: ref, glob: true }
  }
  refuseInvalidTags(tags)
  return { reference: ref, glob: false }
}

/** `platform` (push and pull): `os/arch[/variant]`; undefined when empty. */
export function readPlatform(value: string, format: string): Platform | undefined {
  const text = value.trim()
  if (!text) return undefined
  if (format === 'oci-layout') {
    throw new InputError(
      'platform',
      "cannot be combined with format 'oci-layout' (a layout keeps its own index)",
    )
  }
  try {
    return parsePlatform(text)
  } catch (error) {
    if (error instanceof InvalidPlatformError) throw new InputError('platform', error.message)
    throw error
  }
}

/** A platform push tags `<tag>-<os>-<arch>` too: each tag must leave room for that suffix. */
export function refuseTagsTooLongForPlatform(tags: string[], platform: Platform, given: string): void {
  const room = MAX_TAG_LENGTH - platformTagSuffixLength(platform)
  const long = tags.find((t) => t.length > room)
  if (long) {
    throw new InputError(
      'tag',
      `'${long}' is too long for platform tags: at most ${room} characters with '${given.trim()}'`,
    )
  }
}
