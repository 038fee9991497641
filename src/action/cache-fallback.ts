import * as cache from '@actions/cache'

// The seam to GitHub's own cache service, used when the registry cannot take or give the cache
// (a fork's read-only token, a registry out of reach). Deliberately thin: every decision about
// when to come here lives in cache.ts, where it is tested; this file only translates.

/** True on runners that offer GitHub's cache service (ACTIONS_CACHE_URL or ACTIONS_RESULTS_URL). */
export function githubCacheAvailable(): boolean {
  return cache.isFeatureAvailable()
}

/**
 * Restores `dir` from GitHub's cache, or with `lookupOnly` only asks which key would be restored.
 * The service matches `key` as a prefix too, so the key returned may differ from `key`.
 */
export async function restoreFromGitHubCache(
  dir: string,
  key: string,
  restoreKeys: string[],
  lookupOnly: boolean,
): Promise<string | undefined> {
  return cache.restoreCache([dir], key, restoreKeys, { lookupOnly })
}

/** Saves `dir` under `key`; false when the service declined (it logs why, e.g. the key exists). */
export async function saveToGitHubCache(dir: string, key: string): Promise<boolean> {
  return (await cache.saveCache([dir], key)) !== -1
}
