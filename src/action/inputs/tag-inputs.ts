import type { Platform } from '../oci/descriptor.js'
import { InvalidPlatformError, parsePlatform, platformTagSuffixLength } from '../oci/platform.js'
import { InputError } from './input-error.js'
import type { Format, Mode } from './inputs.js'

// 128: the distribution spec's longest tag, which each platform tag `<tag>-<os>-<arch>` must fit.
const MAX_TAG_LENGTH = 128

export function readPlatform(
  value: string,
  mode: Mode,
  tags: string[],
  format: Format,
): Platform | undefined {
  const text = value.trim()
  if (!text) return undefined
  if (mode === 'cache') throw new InputError('platform', 'is for push and pull, not cache mode')
  if (format === 'oci-layout') {
    throw new InputError(
      'platform',
      "cannot be combined with format 'oci-layout' (a layout keeps its own index)",
    )
  }
  let platform: Platform
  try {
    platform = parsePlatform(text)
  } catch (error) {
    if (error instanceof InvalidPlatformError) throw new InputError('platform', error.message)
    throw error
  }
  if (mode === 'push') {
    const room = MAX_TAG_LENGTH - platformTagSuffixLength(platform)
    const long = tags.find((t) => t.length > room)
    if (long) {
      throw new InputError(
        'tag',
        `'${long}' is too long for platform tags: at most ${room} characters with '${text}'`,
      )
    }
  }
  return platform
}
