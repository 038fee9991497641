import * as core from '@actions/core'
import type { RepositoryOptions } from '../../oci/repository.js'
import {
  describe,
  prune,
  registryVersionStore,
  versionName,
  type PruneReport,
  type Verdict,
  type VersionStore,
} from '../../prune/index.js'
import { getInputs } from '../inputs/readers.js'
import { actionsLogger, formatBytes, writeSummary } from '../runner/log.js'
import { openRepository, userAgent } from '../runner/registry.js'
import { parsePruneInputs, type PruneInputs } from './inputs.js'
import { packagesApiStore } from './packages-store.js'

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

/** mode: prune. */
export async function runPrune(): Promise<void> {
  await pruneRepository(getInputs(parsePruneInputs))
}

/** Lists, plans, deletes (unless dry-run), and reports what went and what stayed. */
export async function pruneRepository(
  inputs: PruneInputs,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const where = `${inputs.registry}/${inputs.repository}`
  const packagesApi = usesPackagesApi(inputs.registry, env)
  // push: rewriting scope indexes; delete: the distribution API's DELETE (ghcr.io has none)
  const actions = inputs.dryRun ? ['pull'] : packagesApi ? ['pull', 'push'] : ['pull', 'push', 'delete']
  const repo = openRepository(inputs, actions as RepositoryOptions['actions'], env)
  const store = packagesApi ? openPackagesStore(inputs, env) : registryVersionStore(repo)
  if (inputs.tagPatterns.length === 0) core.info('No tag-pattern: only caches are pruned')
  const report = await prune({
    store,
    registry: repo,
    policy: {
      tagPatterns: inputs.tagPatterns,
      keep: inputs.keep,
      olderThanMs: inputs.olderThanMs,
      now: Date.now(),
    },
    dryRun: inputs.dryRun,
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

function openPackagesStore(inputs: PruneInputs, env: NodeJS.ProcessEnv): VersionStore {
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

// A summary is for reading: past this many rows per table, the rest is counted, not listed.
const MAX_ROWS = 200

/** Markdown for the job summary of a prune: what went (or would), what stayed and why. */
export function pruneSummary(report: PruneReport, where: string): string {
  const title = report.dryRun ? `Prune of ${where} (dry run: nothing deleted)` : `Pruned ${where}`
  let text = `## ${title}\n\n`
  text += `${report.dryRun ? 'Would delete' : 'Deleted'} **${report.deleted.length}** version(s), `
  text += `${formatBytes(report.freedBytes)}; kept ${report.kept.length}.\n`
  if (report.rewrittenScopes.length > 0) {
    text += `\nCache scope indexes ${report.dryRun ? 'to rewrite' : 'rewritten'}: ${report.rewrittenScopes.map((s) => `\`${s}\``).join(', ')}\n`
  }
  text += section(report.dryRun ? 'Would delete' : 'Deleted', report.deleted)
  if (report.refused.length > 0) {
    text += section(
      'Refused (kept)',
      report.refused.map((r) => ({ ...r.verdict, reason: r.reason })),
    )
  }
  text += section('Kept', report.kept)
  return text
}

function section(title: string, verdicts: Verdict[]): string {
  if (verdicts.length === 0) return ''
  const rows = verdicts.slice(0, MAX_ROWS).map((v) => {
    const what = v.cache ? `cache \`${v.cache.key}\` (${v.cache.scope})` : versionName(v.version)
    const created = v.version.created ? v.version.created.toISOString().slice(0, 19).replace('T', ' ') : '-'
    return `| ${cell(what)} | \`${v.version.digest.slice(0, 19)}\` | ${created} | ${cell(v.reason)} |`
  })
  const more = verdicts.length > MAX_ROWS ? `\n…and ${verdicts.length - MAX_ROWS} more\n` : ''
  return `\n### ${title}\n\n| Version | Digest | Created | Why |\n|---|---|---|---|\n${rows.join('\n')}\n${more}`
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|')
}
