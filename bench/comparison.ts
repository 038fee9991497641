import {
  baselineCacheRestore,
  baselineCacheSave,
  baselinePull,
  baselinePush,
  type BaselineCacheSaveResult,
} from './baseline.js'
import { stepProblems, type ActionRun } from './action-process.js'
import { actionsCacheBundles, actionsCacheRestore, actionsCacheSave } from './actions-cache-code.js'
import type { BenchContext } from './bench-context.js'
import {
  phasesText,
  record,
  recordBaseline,
  rss,
  section,
  type ComparisonProfile,
} from './comparison-report.js'
import type { GeneratedTree } from './generate-tree.js'
import { formatBytes, formatMs } from './report.js'
import { Samples } from './samples.js'
import { treeDigest } from './tree-digest.js'
import { basename, dirname, join } from 'node:path'

const TAG = 'v1'

/**
 * The side-by-side run on one tree: push, push again unchanged, pull, compressed size and
 * peak RSS, then cache save and restore; the two sides of each step in turn (see inTurn), repeated
 * `repeat` times into fresh repositories so no repeat finds the blobs of the one before. Returns
 * the markdown, with the profile's targets (on loopback, or across the shaped link).
 */
export async function runComparison(
  ctx: BenchContext,
  tree: GeneratedTree,
  repeat: number,
  profile: ComparisonProfile,
): Promise<string> {
  ctx.log(`source tree: ${tree.dir} (${formatBytes(tree.bytes)}, ${tree.files} files)`)
  // Hashing the tree also reads it into the page cache, so the first timed step is not the only cold one.
  const sourceDigest = await treeDigest(tree.dir)
  const samples = new Samples()
  const checkPulled = async (who: string, dir: string, verify: boolean) => {
    if (verify && (await treeDigest(dir)) !== sourceDigest)
      throw new Error(`${who}: pulled tree differs from the source`)
  }

  for (let i = 1; i <= repeat; i++) {
    const verify = i === 1
    ctx.log(`run ${i}/${repeat}`)
    await ctx.clearScratch()
    const baseRepo = `baseline-${i}`
    const oursRepo = `ours-${i}`
    // the baseline's push and its push again are the same command into the same repository
    const timeBaselinePush = async (step: 'push' | 'repush', label: string) => {
      const timing = await baselinePush(
        tree.dir,
        await ctx.scratch('baseline-push'),
        ctx.target(baseRepo),
        TAG,
      )
      recordBaseline(samples, step, timing)
      ctx.log(`  ${label.padEnd(19)} ${formatMs(timing.wallMs)}  ${phasesText(timing)}`)
      return timing
    }

    await inTurn(
      i,
      async () => {
        samples.add('size:baseline', (await timeBaselinePush('push', 'baseline push')).layerSize)
      },
      async () => {
        const oursPush = await ctx.tryOurs('action', 'push', async () => {
          const run = withOutput(await ctx.runOurs(pushInputs(ctx, tree, oursRepo)), 'digest')
          return { ...run, layerBytes: await ctx.layerBytes(oursRepo, TAG) }
        })
        if (oursPush) {
          record(samples, 'ours', 'push', oursPush)
          samples.add('size:ours', oursPush.layerBytes)
          ctx.log(`  ours push           ${formatMs(oursPush.wallMs)}  rss ${rss(oursPush.peakRssBytes)}`)
        }
      },
    )

    await inTurn(
      i,
      async () => {
        await timeBaselinePush('repush', 'baseline re-push')
      },
      async () => {
        const oursRepush = await ctx.tryOurs('action', 'second push', async () =>
          withOutput(await ctx.runOurs(pushInputs(ctx, tree, oursRepo)), 'digest'),
        )
        if (oursRepush) {
          record(samples, 'ours', 'repush', oursRepush)
          ctx.log(`  ours re-push        ${formatMs(oursRepush.wallMs)}  rss ${rss(oursRepush.peakRssBytes)}`)
        }
      },
    )

    await inTurn(
      i,
      async () => {
        const baseDest = await ctx.scratch('pulled-baseline')
        const basePull = await baselinePull(
          ctx.target(baseRepo),
          TAG,
          await ctx.scratch('baseline-pull'),
          baseDest,
        )
        recordBaseline(samples, 'pull', basePull)
        ctx.log(`  baseline pull       ${formatMs(basePull.wallMs)}  ${phasesText(basePull)}`)
        await checkPulled('baseline pull', baseDest, verify)
      },
      async () => {
        const oursDest = await ctx.scratch('pulled-ours')
        const oursPull = await ctx.tryOurs('action', 'pull', async () => {
          const run = withOutput(
            await ctx.runOurs({
              mode: 'pull',
              path: oursDest,
              repository: `${ctx.bed.registry}/alice/${oursRepo}`,
              tag: TAG,
            }),
            'digest',
          )
          await checkPulled('our pull', oursDest, verify)
          return run
        })
        if (oursPull) {
          record(samples, 'ours', 'pull', oursPull)
          ctx.log(`  ours pull           ${formatMs(oursPull.wallMs)}  rss ${rss(oursPull.peakRssBytes)}`)
        }
      },
    )

    if (!ctx.skipCache) await compareCache(ctx, tree, samples, i, checkPulled)
  }
  return section(ctx, tree, repeat, samples, profile)
}

/**
 * One comparison's sides in turn: in the given order in the first repeat, rotated by one in each
 * repeat after it, so every side takes every position. The later of two steps inherits the machine
 * as the earlier left it. On this VM that mattered: memory freed a moment earlier (by a process
 * that exited, a tree deleted) is cheap to touch again, while memory handed back to the host costs
 * ~12 us a page, so whichever side ran after the other allocated differently (our cache restore:
 * 2.2-2.4 s run right after the baseline's, 1.8-2.0 s right after 1 GiB was freed).
 */
async function inTurn(i: number, ...sides: (() => Promise<void>)[]): Promise<void> {
  const shift = (i - 1) % sides.length
  for (const side of [...sides.slice(shift), ...sides.slice(0, shift)]) await side()
}

function pushInputs(ctx: BenchContext, tree: GeneratedTree, repository: string): Record<string, string> {
  return { mode: 'push', path: tree.dir, repository: `${ctx.bed.registry}/alice/${repository}`, tag: TAG }
}

/** A step that succeeded without its output did not do the work (a mode not built yet, say). */
function withOutput<T extends ActionRun>(run: T, name: string): T {
  if (!run.outputs[name]) throw new Error(`no '${name}' output; the step said: ${stepProblems(run.stdout)}`)
  return run
}

type CheckPulled = (who: string, dir: string, verify: boolean) => Promise<void>

/**
 * Cache save and restore against the actions/cache pipeline, and against actions/cache's own code
 * (actions-cache-code.ts). Ours: the main step restores (a miss, under a key never used before),
 * the post step saves (the time counted as save), then a main step in an empty folder restores it
 * (an exact hit, the time counted as restore).
 */
async function compareCache(
  ctx: BenchContext,
  tree: GeneratedTree,
  samples: Samples,
  i: number,
  check: CheckPulled,
) {
  const verify = i === 1
  let baseSave: BaselineCacheSaveResult | undefined
  const repository = `${ctx.bed.registry}/alice/cache-ours-${i}`
  const key = `bench-${tree.name}-${i}`
  // The save is the post step, as actions/cache's save is its post step; the main step's lookup
  // that missed before it is timed on its own row (the baseline has no lookup to compare it with).
  let oursMiss: ActionRun | undefined
  let oursSave: ActionRun | undefined
  const actionsCache = actionsCacheBundles(ctx.root)
  const actionsCacheTarget = ctx.target(`cache-actions-cache-${i}`)
  let actionsCacheSaved: BaselineCacheSaveResult | undefined
  // `path` is a line relative to the workspace, as in a workflow: its text is part of the cache's
  // version (actions/cache's rule), so the restore names the same line in a workspace of its own.
  const line = basename(tree.dir)
  const saving = { workspace: dirname(tree.dir) }
  await inTurn(
    i,
    async () => {
      baseSave = await baselineCacheSave(
        tree.dir,
        await ctx.scratch('baseline-cache'),
        ctx.target(`cache-baseline-${i}`),
      )
      recordBaseline(samples, 'cache-save', baseSave)
      ctx.log(`  baseline cache save ${formatMs(baseSave.wallMs)}  ${phasesText(baseSave)}`)
    },
    async () => {
      oursSave = await ctx.tryOurs('cache', 'cache save', async () => {
        oursMiss = await ctx.runOurs({ mode: 'cache', path: line, key, repository }, saving)
        if (oursMiss.outputs['cache-hit'] === 'true') throw new Error(`a fresh key hit: ${key}`)
        return ctx.runOurs(
          { mode: 'cache', path: line, key, repository },
          { ...saving, post: true, state: oursMiss.state },
        )
      })
      // Recorded only once the restore finds it: a save that merely warned is not a fast save.
      if (oursSave && oursMiss) {
        ctx.log(`  ours cache miss     ${formatMs(oursMiss.wallMs)}  (the main step's lookup)`)
        ctx.log(`  ours cache save     ${formatMs(oursSave.wallMs)}  rss ${rss(oursSave.peakRssBytes)}`)
      }
    },
    async () => {
      actionsCacheSaved = await actionsCacheSave(
        actionsCache.save,
        tree.dir,
        await ctx.scratch('actions-cache'),
        actionsCacheTarget,
      )
      record(samples, 'actions-cache', 'cache-save', actionsCacheSaved)
      ctx.log(`  actions/cache save  ${formatMs(actionsCacheSaved.wallMs)}`)
    },
  )

  let oursRestore: ActionRun | undefined
  await inTurn(
    i,
    async () => {
      const saved = baseSave as BaselineCacheSaveResult
      const baseDest = await ctx.scratch('restored-baseline')
      const baseRestore = await baselineCacheRestore(
        ctx.target(`cache-baseline-${i}`),
        saved.digest,
        await ctx.scratch('baseline-cache-restore'),
        baseDest,
      )
      recordBaseline(samples, 'cache-restore', baseRestore)
      ctx.log(`  baseline restore    ${formatMs(baseRestore.wallMs)}  ${phasesText(baseRestore)}`)
      await check('baseline cache restore', baseDest, verify)
    },
    async () => {
      if (!oursSave) return
      const workspace = await ctx.scratch('restored-ours')
      const oursDest = join(workspace, line)
      oursRestore = await ctx.tryOurs('cache', 'cache restore', async () => {
        const run = await ctx.runOurs({ mode: 'cache', path: line, key, repository }, { workspace })
        // A save that only warned leaves nothing to restore.
        if (run.outputs['cache-hit'] !== 'true')
          throw new Error(
            `no exact hit after save; the save said: ${stepProblems(oursSave!.stdout)}; ` +
              `the restore said: ${stepProblems(run.stdout)}`,
          )
        await check('our cache restore', oursDest, verify)
        return run
      })
      if (oursRestore)
        ctx.log(`  ours cache restore  ${formatMs(oursRestore.wallMs)}  rss ${rss(oursRestore.peakRssBytes)}`)
    },
    async () => {
      const saved = actionsCacheSaved as BaselineCacheSaveResult
      const dest = await ctx.scratch('restored-actions-cache')
      const restore = await actionsCacheRestore(
        actionsCache.restore,
        actionsCacheTarget,
        saved.digest,
        await ctx.scratch('actions-cache-restore'),
        dest,
      )
      record(samples, 'actions-cache', 'cache-restore', restore)
      ctx.log(`  actions/cache restore ${formatMs(restore.wallMs)}`)
      await check('actions/cache restore', dest, verify)
    },
  )
  if (oursSave && oursRestore && oursMiss) {
    record(samples, 'ours', 'cache-miss', oursMiss)
    record(samples, 'ours', 'cache-save', oursSave)
    record(samples, 'ours', 'cache-restore', oursRestore)
  }
}
