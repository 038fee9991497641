import { execFileSync } from 'node:child_process'

import { Annotation } from '../../oci/annotations.js'

/**
 * The manifest annotations that say where an artifact came from. Nothing wall-clock goes in:
 * `created` is SOURCE_DATE_EPOCH or the commit's time, so pushing the same content from the same
 * commit twice gives the same manifest digest. The user's annotations win over ours.
 */
export function provenanceAnnotations(
  env: NodeJS.ProcessEnv,
  user: Record<string, string>,
  commitTime: (cwd: string) => string | undefined = gitCommitTime,
): Record<string, string> {
  const annotations: Record<string, string> = {}
  // ghcr.io links a package to the repository named in `source`
  if (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) {
    annotations[Annotation.Source] = `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}`
  }
  if (env.GITHUB_SHA) annotations[Annotation.Revision] = env.GITHUB_SHA
  const created = sourceDate(env) ?? commitTime(env.GITHUB_WORKSPACE || process.cwd())
  if (created) annotations[Annotation.Created] = created
  return { ...annotations, ...user }
}

/** The fixed timestamp for reproducible output: SOURCE_DATE_EPOCH when set (reproducible-builds.org). */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): Date | undefined {
  const value = env.SOURCE_DATE_EPOCH?.trim()
  if (!value || !/^\d+$/.test(value)) return undefined
  return new Date(Number(value) * 1000)
}

function sourceDate(env: NodeJS.ProcessEnv): string | undefined {
  return sourceDateEpoch(env)?.toISOString().replace('.000Z', 'Z')
}

function gitCommitTime(cwd: string): string | undefined {
  try {
    const iso = execFileSync('git', ['show', '-s', '--format=%cI', 'HEAD'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return iso ? new Date(iso).toISOString().replace('.000Z', 'Z') : undefined
  } catch {
    return undefined
  }
}

/**
 * The package page for a ghcr.io repository: ghcr.io answers a browser's GET of the image name
 * with a redirect to the package on github.com, for users and organisations alike. Other
 * registries have no page we can name.
 */
export function packageUrl(registry: string, repository: string): string | undefined {
  return registry === 'ghcr.io' ? `https://ghcr.io/${repository}` : undefined
}
