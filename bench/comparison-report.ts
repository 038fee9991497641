import { cpus, totalmem } from 'node:os'
import type { BaselineTiming } from './baseline.js'
import type { BenchContext } from './bench-context.js'
import { describeTree, type GeneratedTree } from './generate-tree.js'
import { comparisonTable, formatBytes, formatMs, type ComparisonRow } from './report.js'
import type { Samples } from './samples.js'

/** Where the comparison runs and what ours / baseline must stay under there (the issue's targets). */
export interface ComparisonProfile {
  /** The BENCHMARKS.md section it is written to (`comparison`, `link`). */
  section: string
  /** Where the registry was, for the report's first paragraph. */
  where: string
  targets: {
    push: number
    /** None across the link: the issue sets one on loopback only. */
    repush?: number
    pull: number
    /** Against actions/cache's pipeline. */
    cacheSave: number
    cacheRestore: number
    /** Against actions/cache's own code, when there is a target for it. */
    againstActionsCache?: number
  }
}

/** On loopback: nothing regresses. */
export const LOOPBACK: ComparisonProfile = {
  section: 'comparison',
  where: 'on loopback',
  targets: { push: 0.5, repush: 0.1, pull: 0.8, cacheSave: 1.0, cacheRestore: 1.0 },
}

/**
 * On loopback, the many-files tree (issue 29): extraction at least as fast as the plain tools,
 * the packing steps as far ahead of them as on the byte-heavy tree.
 */
export const MANY_FILES: ComparisonProfile = {
  section: 'many-files',
  where: 'on loopback',
  targets: { push: 0.5, pull: 1.0, cacheSave: 0.75, cacheRestore: 1.0 },
}

/**
 * Across the shaped link (link.ts): the issue's targets at 400 Mbit/s, the pull's close to the
 * wire (the download alone is about 0.72 of the baseline's time there), and below actions/cache.
 */
export function linkProfile(where: string): ComparisonProfile {
  return {
    section: 'link',
    where,
    targets: {
      push: 0.4,
      pull: 0.8,
      cacheSave: 0.75,
      cacheRestore: 0.85,
      againstActionsCache: 1.0,
    },
  }
}

export function recordBaseline(samples: Samples, step: string, timing: BaselineTiming): void {
  record(samples, 'baseline', step, timing)
  for (const [phase, ms] of Object.entries(timing.phases)) samples.add(`phase:${step}:${phase}`, ms)
}

export function record(
  samples: Samples,
  side: string,
  step: string,
  run: { wallMs: number; peakRssBytes?: number },
): void {
  samples.add(`time:${side}:${step}`, run.wallMs)
  samples.add(`rss:${side}:${step}`, run.peakRssBytes)
}

export function section(
  ctx: BenchContext,
  tree: GeneratedTree,
  repeat: number,
  s: Samples,
  profile: ComparisonProfile,
): string {
  const t = profile.targets
  const time = (step: string, what: string, target: number | undefined, note = ''): ComparisonRow => ({
    what,
    baseline: s.median(`time:baseline:${step}`),
    ours: s.median(`time:ours:${step}`),
    unit: 'ms',
    target,
    note,
  })
  const memory = (step: string, what: string, note: string): ComparisonRow => ({
    what,
    baseline: s.max(`rss:baseline:${step}`),
    ours: s.max(`rss:ours:${step}`),
    unit: 'bytes',
    note,
  })
  const rows: ComparisonRow[] = [
    time('push', 'push', t.push, 'baseline: `tar | gzip -6` into an OCI layout, `skopeo copy`'),
    time(
      'repush',
      'push again, tree unchanged',
      t.repush,
      'baseline packs again; skopeo then skips the blob',
    ),
    time('pull', 'pull', t.pull, 'baseline: `skopeo copy` to a layout, `tar -xzf`'),
    {
      what: 'compressed size (level 6)',
      baseline: s.median('size:baseline'),
      ours: s.median('size:ours'),
      unit: 'bytes',
      target: 1.03,
      note: 'baseline: `gzip -6`',
    },
    memory('push', 'peak RSS, push', 'baseline: the largest of tar, gzip, skopeo'),
    memory('pull', 'peak RSS, pull', 'baseline: the largest of skopeo, tar'),
  ]
  if (!ctx.skipCache) {
    rows.push(
      time(
        'cache-save',
        'cache save',
        t.cacheSave,
        'the post step; baseline: `tar | zstd -T0` to a file, one blob PUT with curl',
      ),
      time(
        'cache-restore',
        'cache restore',
        t.cacheRestore,
        'the main step, exact hit; baseline: curl download to a file, `zstd -d | tar -x`',
      ),
      {
        what: 'cache save, against actions/cache',
        baseline: s.median('time:actions-cache:cache-save'),
        ours: s.median('time:ours:cache-save'),
        unit: 'ms',
        target: t.againstActionsCache,
        note: "baseline: actions/cache's own code, bundled: its createTar (tar, zstdmt), then the file up with @actions/http-client",
      },
      {
        what: 'cache restore, against actions/cache',
        baseline: s.median('time:actions-cache:cache-restore'),
        ours: s.median('time:ours:cache-restore'),
        unit: 'ms',
        target: t.againstActionsCache,
        note: "baseline: actions/cache's own code, bundled: its downloadCache to a file, its extractTar (tar, zstd)",
      },
      {
        what: 'cache miss, before the save',
        ours: s.median('time:ours:cache-miss'),
        unit: 'ms',
        note: 'the main step: start-up and the lookups that find nothing; the baseline has no lookup',
      },
    )
  }
  const cpu = cpus()
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpu.length} cores ` +
      `(${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${formatBytes(totalmem())} RAM, Node ${process.version}, ` +
      `load average ${ctx.loadAtStart.toFixed(1)} at the start. ` +
      `Tree: ${describeTree(tree)}. ${repeat === 1 ? 'One run' : `Median of ${repeat} runs`}. Ours: ${ctx.bundleLabel}. ` +
      'Registry: the test bed ' +
      `(CNCF Distribution 2.8 in token mode, blob reads redirected to a second origin), ${profile.where}. ` +
      `Pulled and restored trees ${ctx.workDirLabel}, for both sides (see bench/work-dir.ts).`,
    '',
    comparisonTable(rows),
    '',
    'Peak RSS target for ours: <= 200 MB (190.7 MiB) for a push or a pull of a 1 GiB tree (see the scaling run).',
    `Where the baseline's time went: ${phaseBreakdown(s)}.`,
  ]
  for (const [part, reason] of ctx.skipped) lines.push('', `Ours (${part}) not measured: ${reason}.`)
  return lines.join('\n')
}

function phaseBreakdown(s: Samples): string {
  const steps = new Map<string, string[]>()
  for (const name of s.names('phase:')) {
    const [, step, phase] = name.split(':') as [string, string, string]
    steps.set(step, [...(steps.get(step) ?? []), `${phase} ${formatMs(s.median(name)!)}`])
  }
  return [...steps].map(([step, phases]) => `${step}: ${phases.join(' + ')}`).join('; ')
}

export function phasesText(timing: BaselineTiming): string {
  const phases = Object.entries(timing.phases).map(([name, ms]) => `${name} ${formatMs(ms)}`)
  return `(${phases.join(', ')}) rss ${rss(timing.peakRssBytes)}`
}

export function rss(bytes: number | undefined): string {
  return bytes === undefined ? '?' : formatBytes(bytes)
}
