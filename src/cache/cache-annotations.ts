import { Annotation } from '../oci/annotations.js'

// What marks a manifest as one of our caches, and where its key travels. The key cannot be read
// back from the tag (a hash), so the manifest and the index entry carry it in full.
export const CACHE_ARTIFACT_TYPE = 'application/vnd.oci-artifact-action.cache.v1'
export const CACHE_INDEX_ARTIFACT_TYPE = 'application/vnd.oci-artifact-action.cache-index.v1'

export const KEY_ANNOTATION = 'io.github.oci-artifact-action.cache.key'
export const SCOPE_ANNOTATION = 'io.github.oci-artifact-action.cache.scope'
// The standard annotation (image-spec annotations.md): RFC 3339 time of the save.
export const CREATED_ANNOTATION = Annotation.Created
// What a key means besides its text, as actions/cache's cache version: a hash of the path lines
// (and the platform family), so a cache saved for other paths is not restored for these.
export const VERSION_ANNOTATION = 'io.github.oci-artifact-action.cache.version'
// On each layer: the `path` line it holds, and where its root is relative to that line's path
// (`.` the path itself or a glob's literal folder, `..` a single file's folder).
export const PATH_ANNOTATION = 'io.github.oci-artifact-action.cache.path'
export const ROOT_ANNOTATION = 'io.github.oci-artifact-action.cache.root'
