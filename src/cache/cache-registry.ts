import type { Repository } from '../oci/repository.js'

/** The manifest operations cache lookups and saves need: a Repository, or a fake in unit tests. */
export type CacheRegistry = Pick<Repository, 'getManifest' | 'putManifest' | 'headManifest'>
