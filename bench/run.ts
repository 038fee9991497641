import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { BenchContext } from './bench-context.js'
import { startTestbedProcess, type BenchTestbed } from './testbed-client.js'
import { runComparison } from './comparison.js'
import { ensureTree, type TreeSpec } from './generate-tree.js'
import { canMeasureRss } from './measured-process.js'
import { parseOptions, USAGE } from './options.js'
import { writeSection } from './report.js'
import { chooseWorkDir } from './work-dir.js'
import { runScaling } from './scaling.js'

/**
 * `npm run bench`: the action against the plain alternatives on the same data, in one run.
 * Run from the repository root (scripts/bench.sh does), by the Node 24 the action runs on.
 */
async function main(): Promise<void> {
  const options = (() => {
    try {
      return parseOptions(process.argv.slice(2))
    } catch (error) {
      console.error(`${(error as Error).message}\n${USAGE}`)
      process.exit(2)
    }
  })()
  const root = process.cwd()
  if (!existsSync(join(root, 'action.yml'))) throw new Error(`run from the repository root, not ${root}`)
  const dataDir = join(root, 'bench', '.data')
  const largest = options.scaling ? options.scalingSizes.reduce((sum, bytes) => sum + bytes, 0) : options.size
  // room for every pulled, restored and packed copy: nothing is deleted until the run ends
  const work = chooseWorkDir(dataDir, 8 * largest * options.repeat, options.workDir)
  const workDir = work.path
  // The test bed keeps the registry's storage in a temp dir: keep it with the rest of the data.
  process.env.TMPDIR = join(dataDir, 'tmp')
  await mkdir(process.env.TMPDIR, { recursive: true })
  if (!canMeasureRss) console.log('GNU time not found (/usr/bin/time): peak RSS will not be measured')

  let bed: BenchTestbed | undefined
  const cleanUp = async () => {
    await bed?.stop()
    bed = undefined
    await rm(workDir, { recursive: true, force: true })
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)))
  }

  try {
    // A 1 GiB push takes longer than the bed's default token lifetime on a loaded machine.
    bed = await startTestbedProcess(3600)
    const ctx = new BenchContext({
      root,
      bed,
      workDir,
      workDirLabel: work.label,
      workDirTmpfs: work.tmpfs,
      dist: resolve(root, options.dist ?? 'dist'),
      baselineOnly: options.baselineOnly,
      skipCache: options.noCache,
    })
    for (const [part, reason] of ctx.skipped) console.log(`ours (${part}): not measured (${reason})`)
    if (ctx.loadAtStart > cpus().length) {
      console.log(
        `load average ${ctx.loadAtStart.toFixed(1)} on ${cpus().length} cores: other work will skew the timings`,
      )
    }
    const benchmarks = join(root, 'BENCHMARKS.md')
    if (options.scaling) {
      const specs: TreeSpec[] = options.scalingSizes.map((bytes) => ({ variant: 'mixed', bytes }))
      if (options.smallFiles > 0) specs.push({ variant: 'small-files', files: options.smallFiles })
      const markdown = await runScaling(ctx, dataDir, specs, options.repeat)
      console.log(`\n${markdown}\n`)
      if (!options.noWrite) await writeSection(benchmarks, 'scaling', markdown)
    } else {
      const tree = await ensureTree(dataDir, { variant: 'mixed', bytes: options.size })
      const markdown = await runComparison(ctx, tree, options.repeat)
      console.log(`\n${markdown}\n`)
      if (!options.noWrite) await writeSection(benchmarks, 'comparison', markdown)
    }
    if (!options.noWrite) console.log('BENCHMARKS.md updated')
  } finally {
    await cleanUp()
  }
}

await main()
