import * as core from '@actions/core'
import type { RepositoryOptions } from '../oci/repository.js'
import { describe, prune, registryVersionStore, type PruneReport, type VersionStore } from '../prune/index.js'
import { formatBytes } from './format.js'
import { actionsLogger, userAgent } from './logger.js'
import type { Inputs } from './inputs.js'
import { packagesApiStore } from './packages-store.js'
import { pruneSummary } from './prune-summary.js'
import { openRepository } from './registry.js'
import { writeSummary } from './summary.js'

/**
 * Test-only: the registry host (`127.0.0.1:PORT`) that the test suite's Packages API stand-in
 * serves, so the ghcr.io path runs end to end against the local registry. On a runner it is
 * unset, and only ghcr.io's versions are handled through the Packages API.
 */
const PACKAGES_API_REGISTRY_ENV = 'OCI_ARTIFACT_ACTION_TEST_PACKAGES_API_REGISTRY'

/** Whether versions are listed and deleted through GitHub's Packages API rather than the registry's. */
export function usesPackagesApi(registry: string, env: NodeJS.ProcessEnv): boolean {
  return (
    registry === 'ghcr.io' ||
    (!!env[PACKAGES_API_REGISTRY_ENV] && env[PACKAGES_API_REGISTRY_ENV] === registry)
  )
}

/** mode: prune. Lists, plans, deletes (unless dry-run), and reports what went and what stayed. */
export async function runPrune(inputs: Inputs, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { prune: o } = inputs
  const where = `${inputs.registry}/${inputs.repository}`
  const packagesApi = usesPackagesApi(inputs.registry, env)
  // push: rewriting scope indexes; delete: the distribution API's DELETE (ghcr.io has none)
  const actions = o.dryRun ? ['pull'] : packagesApi ? ['pull', 'push'] : ['pull', 'push', 'delete']
  const repo = openRepository(inputs, actions as RepositoryOptions['actions'], env)
  const store = packagesApi ? openPackagesStore(inputs, env) : registryVersionStore(repo)
  if (o.tagPatterns.length === 0) core.info('No tag-pattern: only caches are pruned')
  const report = await prune({
    store,
    registry: repo,
    policy: { tagPatterns: o.tagPatterns, keep: o.keep, olderThanMs: o.olderThanMs, now: Date.now() },
    dryRun: o.dryRun,
    logger: actionsLogger,
  })
  if (report.dryRun)
    for (const verdict of report.deleted) core.info(`Would delete ${describe(verdict)}: ${verdict.reason}`)
  setOutputs(report)
  const verb = report.dryRun ? 'Would delete' : 'Deleted'
  core.info(
    `${verb} ${report.deleted.length} version(s) of ${where}, ${formatBytes(report.freedBytes)}; kept ${report.kept.length}`,
  )
  await writeSummary(pruneSummary(report, where))
}

function openPackagesStore(inputs: Inputs, env: NodeJS.ProcessEnv): VersionStore {
  const token = inputs.credentials?.password
  if (!token)
    throw new Error(
      "Input 'token': pruning a ghcr.io package needs a token (the default github.token will do)",
    )
  return packagesApiStore({
    token,
    repository: inputs.repository,
    baseUrl: env.GITHUB_API_URL || 'https://api.github.com',
    logger: actionsLogger,
    userAgent: userAgent(env),
  })
}

function setOutputs(report: PruneReport): void {
  const deleted = report.deleted.map(({ version, cache }) => ({
    digest: version.digest,
    tags: version.tags,
    ...(cache ? { key: cache.key, scope: cache.scope } : {}),
  }))
  core.setOutput('deleted', JSON.stringify(deleted))
  core.setOutput('deleted-count', String(deleted.length))
  core.setOutput('freed-bytes', String(report.freedBytes))
}
