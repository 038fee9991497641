import { versionName, type PruneReport, type Verdict } from '../prune/index.js'
import { formatBytes } from './format.js'

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
