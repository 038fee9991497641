// The seam to GitHub's own cache service, used when the registry cannot take or give the cache
// (a fork's read-only token, a registry out of reach). Deliberately thin: every decision about
// when to come here lives in restore.ts and save.ts, where it is tested; this file
// only translates.
//
// @actions/cache is loaded on first use: it brings the Azure storage SDK, which costs every step
// of every mode a few hundred milliseconds of start-up when it is part of the main bundle.
const load = () => import('@actions/cache')

/** True on runners that offer GitHub's cache service. */
export async function githubCacheAvailable(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  // Without either service URL the answer is no, and known without loading the library.
  if (!env.ACTIONS_CACHE_URL && !env.ACTIONS_RESULTS_URL) return false
  return (await load()).isFeatureAvailable()
}

/**
 * Restores `paths` (the input's lines, as actions/cache takes them) from GitHub's cache, or with
 * `lookupOnly` only asks which key would be restored. The service matches `key` as a prefix too,
 * so the key returned may differ from `key`.
 */
export async function restoreFromGitHubCache(
  paths: string[],
  key: string,
  restoreKeys: string[],
  lookupOnly: boolean,
): Promise<string | undefined> {
  return (await load()).restoreCache(paths, key, restoreKeys, { lookupOnly })
}

/** Saves `paths` under `key`; false when the service declined (it logs why, e.g. the key exists). */
export async function saveToGitHubCache(paths: string[], key: string): Promise<boolean> {
  return (await (await load()).saveCache(paths, key)) !== -1
}
