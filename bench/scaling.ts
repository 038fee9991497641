import { readFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join } from 'node:path'
import { parseInputDefaults } from '../__tests__/helpers/run-action.js'
import type { BenchContext } from './bench-context.js'
import { ensureTree, formatSize, type TreeSpec } from './generate-tree.js'
import { formatBytes, formatMs, simpleTable } from './report.js'
import { Samples } from './samples.js'
import { treeDigest } from './tree-digest.js'

/** One row of the scaling run: a tree, and inputs of the action's beyond the usual ones. */
export interface ScalingSpec {
  tree: TreeSpec
  /** Given to both the push and the pull (action inputs by name). */
  inputs?: Record<string, string>
  /** The row's name, when the tree's own does not say what is different. */
  label?: string
}

/** The split row's tree: above the threshold it is pushed with, by a few layers' worth. */
export const SPLIT_TREE_BYTES = 1024 * 1024 * 1024

/**
 * A 1 GiB tree pushed with `max-layer-size` lowered to `maxLayerBytes` (the action's default is a
 * few GiB, below ghcr.io's 10 GB cap), so the split path is timed without generating 20 GB.
 */
export function splitSpec(maxLayerBytes: number): ScalingSpec {
  return {
    tree: { variant: 'mixed', bytes: SPLIT_TREE_BYTES },
    inputs: { 'max-layer-size': String(maxLayerBytes) },
    label: `${formatSize(SPLIT_TREE_BYTES)} mixed, split at ${formatSize(maxLayerBytes)}`,
  }
}

/**
 * Our push and pull at growing sizes and at many small files: time should grow with the bytes
 * (steady MiB/s) and peak RSS should not (streaming, no whole-layer buffers). Returns the markdown.
 */
export async function runScaling(
  ctx: BenchContext,
  dataDir: string,
  specs: ScalingSpec[],
  repeat: number,
): Promise<string> {
  const rows: string[][] = []
  const notes: string[] = []
  const declared = parseInputDefaults(await readFile(join(ctx.root, 'action.yml'), 'utf8'))
  for (const spec of specs) {
    const missing = Object.keys(spec.inputs ?? {}).filter((name) => !(name in declared))
    if (missing.length > 0) {
      const note = `${spec.label ?? 'a row'}: not measured, action.yml has no input ${missing.join(', ')} in this build`
      ctx.log(`scaling: ${note}`)
      notes.push(note)
      continue
    }
    const tree = await ensureTree(dataDir, spec.tree)
    ctx.log(`scaling: ${tree.name} (${formatBytes(tree.bytes)}, ${tree.files} files)`)
    const sourceDigest = await treeDigest(tree.dir)
    const samples = new Samples()
    let layers: number | undefined
    for (let i = 1; i <= repeat; i++) {
      await ctx.clearScratch()
      const name = `scale-${spec.inputs ? `${tree.name}-custom` : tree.name}-${i}`.toLowerCase()
      const repository = `${ctx.bed.registry}/alice/${name}`
      const push = await ctx.tryOurs('action', `push of ${tree.name}`, () =>
        ctx.runOurs({ mode: 'push', path: tree.dir, repository, tag: 'v1', ...spec.inputs }),
      )
      if (!push) break
      if (spec.inputs && i === 1) layers = (await ctx.layerSizes(name, 'v1')).length
      const dest = await ctx.scratch('scaling-pull')
      const pull = await ctx.tryOurs('action', `pull of ${tree.name}`, async () => {
        // max-layer-size is push's: the pull finds the layers in the manifest
        const run = await ctx.runOurs({ mode: 'pull', path: dest, repository, tag: 'v1' })
        if (i === 1 && (await treeDigest(dest)) !== sourceDigest)
          throw new Error('pulled tree differs from the source')
        return run
      })
      if (!pull) break
      for (const [step, run] of [
        ['push', push],
        ['pull', pull],
      ] as const) {
        samples.add(`time:${step}`, run.wallMs)
        samples.add(`rss:${step}`, run.peakRssBytes)
      }
      ctx.log(
        `  push ${formatMs(push.wallMs)} rss ${formatBytes(push.peakRssBytes ?? 0)}; ` +
          `pull ${formatMs(pull.wallMs)} rss ${formatBytes(pull.peakRssBytes ?? 0)}`,
      )
    }
    if (samples.median('time:pull') === undefined) break
    const cells = (step: string) => {
      const ms = samples.median(`time:${step}`)!
      const peak = samples.max(`rss:${step}`)
      return [formatMs(ms), throughput(tree.bytes, ms), peak ? formatBytes(peak) : '?']
    }
    const named =
      spec.label ??
      (spec.tree.variant === 'mixed' ? `${formatSize(tree.bytes)} mixed` : `${tree.files} small files`)
    // the split row says how many layers the push made: one means the input did nothing
    const label = layers === undefined ? named : `${named} (${layers} layer${layers === 1 ? '' : 's'})`
    rows.push([label, String(tree.files), formatBytes(tree.bytes), ...cells('push'), ...cells('pull')])
  }

  const header = [
    'Tree',
    'Files',
    'Bytes',
    'Push',
    'Push MiB/s',
    'Push peak RSS',
    'Pull',
    'Pull MiB/s',
    'Pull peak RSS',
  ]
  const lines = [
    `Our push and pull alone, ${cpus().length} cores (load average ${ctx.loadAtStart.toFixed(1)} at the start), ` +
      `${repeat === 1 ? 'one run' : `median of ${repeat} runs`} ` +
      `per size, ${ctx.bundleLabel}. Peak RSS is the action process's (GNU time, %M); the target is <= 200 MB (190.7 MiB) at 1 GiB. ` +
      `Pulled trees ${ctx.workDirLabel}.`,
    '',
    rows.length ? simpleTable(header, rows) : '(no sizes measured)',
  ]
  const skipped = ctx.skipped.get('action')
  if (skipped) lines.push('', `Not measured: ${skipped}.`)
  for (const note of notes) lines.push('', `${note}.`)
  return lines.join('\n')
}

function throughput(bytes: number, ms: number): string {
  const mibPerSecond = bytes / 1024 ** 2 / (ms / 1000)
  return mibPerSecond.toFixed(mibPerSecond < 10 ? 1 : 0)
}
