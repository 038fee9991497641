import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { runAction } from './action-process.js'
import { baselineCacheRestore, baselineCacheSave } from './baseline.js'
import { BenchContext } from './bench-context.js'
import { ensureTree, parseSize } from './generate-tree.js'
import { createLink, measureWire } from './link.js'
import { startTestbedProcess, type BenchTestbed } from './testbed-client.js'
import { treeDigest } from './tree-digest.js'
import { chooseWorkDir } from './work-dir.js'
import type { TestNetwork } from '../__tests__/testbed/netns.js'

/**
 * A chunked cache's restore alone, across the link, against the pipeline's restore, interleaved
 * round by round with other bundles (A/B on a shared machine): what bench/notes/a26r.md measured.
 * `node .build/bench/restore-probe.js SIZE ROUNDS DIST...` (root: a network namespace).
 * A26R_TRACE=<dir> is passed to the steps: a bundle built with the trace writes one there.
 */
async function main(): Promise<void> {
  const [size = '256M', rounds = '3', ...dists] = process.argv.slice(2)
  const root = process.cwd()
  const dataDir = join(root, 'bench', '.data')
  const bytes = parseSize(size)
  const work = chooseWorkDir(dataDir, 6 * bytes)
  process.env.TMPDIR = join(dataDir, 'tmp')
  await mkdir(process.env.TMPDIR, { recursive: true })
  const tree = await ensureTree(dataDir, { variant: 'mixed', bytes })
  let link: TestNetwork | undefined
  let bed: BenchTestbed | undefined
  process.once('SIGTERM', () => {
    void (bed?.stop() ?? Promise.resolve()).finally(() => {
      link?.remove()
      process.exit(143)
    })
  })
  try {
    link = createLink(process.env.PROBE_LINK ?? '400mbit')
    bed = await startTestbedProcess(3600, link)
    const workDir = join(work.path, 'probe')
    const contexts = (dists.length > 0 ? dists : ['dist']).map(
      (dist) =>
        new BenchContext({
          root,
          bed: bed!,
          workDir,
          workDirLabel: work.label,
          workDirTmpfs: work.tmpfs,
          dist: resolve(root, dist),
          baselineOnly: false,
          skipCache: false,
        }),
    )
    const ctx = contexts[0]!
    const wire = await measureWire(ctx)
    console.log(`link: ${wire.download.toFixed(1)} MB/s down, ${wire.upload.toFixed(1)} MB/s up`)
    const line = tree.dir.split('/').pop()!
    const repository = `${bed.registry}/alice/probe-${tree.name.toLowerCase()}`
    const inputs = { mode: 'cache', path: line, key: 'base', repository, 'cache-incremental': 'true' }
    const workspace = join(tree.dir, '..')
    const main = await ctx.runOurs(inputs, { workspace })
    const saved = await ctx.runOurs(inputs, { workspace, post: true, state: main.state })
    console.log(`save ${Math.round(saved.wallMs)} ms`)
    const pipeTarget = ctx.target(`probe-pipeline-${tree.name.toLowerCase()}`)
    const pipe = await baselineCacheSave(tree.dir, await ctx.scratch('pipe'), pipeTarget)
    console.log(`pipeline archive ${pipe.size} bytes`)
    const digest = await treeDigest(tree.dir)
    const trace = process.env.A26R_TRACE
    for (let round = 1; round <= Number(rounds); round++) {
      const dest = await ctx.scratch('pipe-dest')
      const p = await baselineCacheRestore(pipeTarget, pipe.digest, await ctx.scratch('pipe-r'), dest)
      console.log(
        `round ${round} pipeline ${Math.round(p.wallMs)} ms (download ${Math.round(p.phases.download ?? 0)}, extract ${Math.round(p.phases.extract ?? 0)})`,
      )
      await rm(dest, { recursive: true, force: true })
      // a different order each round
      const order = contexts.map((c, i) => ({ c, i }))
      for (let k = 0; k < round - 1; k++) order.push(order.shift()!)
      for (const { c, i } of order) {
        const ws = await c.scratch(`ours-${i}`)
        const run = await runAction(
          {
            root,
            dist: c.dist,
            node: process.execPath,
            scratch: workDir,
            env: {
              NODE_EXTRA_CA_CERTS: bed.caFile!,
              ...(trace ? { A26R_TRACE: join(trace, `r${round}-d${i}.json`) } : {}),
            },
          },
          { username: 'alice', token: bed.users.alice!, ...inputs },
          { workspace: ws },
        )
        if (run.outputs['cache-hit'] !== 'true') throw new Error(`no hit: ${run.stdout.slice(-2000)}`)
        const ok =
          round === 1 ? ((await treeDigest(join(ws, line))) === digest ? 'tree ok' : 'TREE DIFFERS') : ''
        console.log(
          `round ${round} ${dists[i] ?? 'dist'} ${Math.round(run.wallMs)} ms, peak RSS ${((run.peakRssBytes ?? 0) / 1048576).toFixed(1)} MiB ${ok}`,
        )
        await rm(ws, { recursive: true, force: true })
      }
    }
  } finally {
    await bed?.stop()
    link?.remove()
  }
}

await main()
