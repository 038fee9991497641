import { createHash } from 'node:crypto'

// OCI distribution spec: a tag is at most 128 of [A-Za-z0-9_.-] and starts with [A-Za-z0-9_].
// The readable part is only a label for people browsing the package: the hash decides.
const READABLE_LENGTH = 48

/**
 * The tag that holds the cache saved under `key` in `scope`. Keys are free text up to 512
 * characters, tags are not: the tag is a hash of both, so an exact lookup is one request, and
 * the same key saved from two scopes lands on two tags.
 */
export function cacheTag(scope: string, key: string, version?: string): string {
  return `c-${readable(key)}-${hash(scope, key, version)}`
}

/** The tag of the image index that lists a scope's caches, for prefix (restore-keys) lookups. */
export function indexTag(scope: string): string {
  return `i-${readable(scope)}-${hash(scope, '')}`
}

// JSON of the pair is unambiguous whatever characters the scope and key hold. The paths' version
// is part of what a key names (as in actions/cache): the same key saved for other paths is
// another cache, on another tag.
function hash(scope: string, key: string, version?: string): string {
  return createHash('sha256')
    .update(JSON.stringify(version === undefined ? [scope, key] : [scope, key, version]))
    .digest('hex')
}

/**
 * actions/cache's version: a hash of the path lines as written (in order, exclusions included)
 * and the compression, with Windows kept apart from the others (its paths and archives differ).
 */
export function cacheVersion(pathLines: string[], windows: boolean): string {
  const parts = [...pathLines, 'zstd', ...(windows ? ['windows-only'] : [])]
  return createHash('sha256').update(parts.join('|')).digest('hex')
}

function readable(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, READABLE_LENGTH)
    .replace(/^[._-]+/, '')
}
