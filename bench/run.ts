import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { BenchContext } from './bench-context.js'
import { startTestbedProcess, type BenchTestbed } from './testbed-client.js'
import { runComparison } from './comparison.js'
import { chunkerSpeed, runIncremental } from './incremental.js'
import { LOOPBACK, MANY_FILES, linkProfile } from './comparison-report.js'
import { ensureTree } from './generate-tree.js'
import { createLink, describeLink, measureWire } from './link.js'
import { canMeasureRss } from './measured-process.js'
import { parseOptions, USAGE } from './options.js'
import { formatBytes, writeSection } from './report.js'
import { chooseWorkDir } from './work-dir.js'
import { runScaling, SPLIT_TREE_BYTES, splitSpec, type ScalingSpec } from './scaling.js'
import type { TestNetwork } from '../__tests__/testbed/netns.js'

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
  const largest = options.scaling
    ? options.scalingSizes.reduce((sum, bytes) => sum + bytes, 0) + (options.splitSize ? SPLIT_TREE_BYTES : 0)
    : options.size
  // room for every pulled, restored and packed copy: nothing is deleted until the run ends
  const work = chooseWorkDir(dataDir, 8 * largest * options.repeat, options.workDir)
  const workDir = work.path
  // The test bed keeps the registry's storage in a temp dir: keep it with the rest of the data.
  process.env.TMPDIR = join(dataDir, 'tmp')
  await mkdir(process.env.TMPDIR, { recursive: true })
  if (!canMeasureRss) console.log('GNU time not found (/usr/bin/time): peak RSS will not be measured')

  let bed: BenchTestbed | undefined
  let link: TestNetwork | undefined
  const cleanUp = async () => {
    await bed?.stop()
    bed = undefined
    link?.remove()
    link = undefined
    await rm(workDir, { recursive: true, force: true })
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)))
  }

  const contextFor = (testbed: BenchTestbed, dir: string) =>
    new BenchContext({
      root,
      bed: testbed,
      workDir: dir,
      workDirLabel: work.label,
      workDirTmpfs: work.tmpfs,
      dist: resolve(root, options.dist ?? 'dist'),
      baselineOnly: options.baselineOnly,
      skipCache: options.noCache,
    })
  const benchmarks = join(root, 'BENCHMARKS.md')
  const report = async (section: string, markdown: string) => {
    console.log(`\n${markdown}\n`)
    if (!options.noWrite) await writeSection(benchmarks, section, markdown)
  }

  // the incremental cache rows, beside the cache rows of the same run, for each tree asked for
  const incremental = async (ctx: BenchContext, section: string, where: string) => {
    if (options.noCache || options.incremental.length === 0) return
    const tables: string[] = []
    for (const bytes of options.incremental) {
      await ctx.clearScratch()
      const tree = await ensureTree(dataDir, { variant: 'mixed', bytes })
      tables.push(await runIncremental(ctx, tree, options.repeat))
    }
    if (options.manyFiles > 0 && options.incrementalManyFiles) {
      await ctx.clearScratch()
      const tree = await ensureTree(dataDir, { variant: 'many-files', files: options.manyFiles })
      tables.push(await runIncremental(ctx, tree, options.repeat))
    }
    tables.push(await chunkerSpeed())
    await report(section, `Incremental cache saves ${where}.\n\n${tables.join('\n\n')}`)
  }

  try {
    // A 1 GiB push takes longer than the bed's default token lifetime on a loaded machine.
    bed = await startTestbedProcess(TOKEN_TTL_SECONDS)
    let ctx = contextFor(bed, workDir)
    for (const [part, reason] of ctx.skipped) console.log(`ours (${part}): not measured (${reason})`)
    if (ctx.loadAtStart > cpus().length) {
      console.log(
        `load average ${ctx.loadAtStart.toFixed(1)} on ${cpus().length} cores: other work will skew the timings`,
      )
    }
    if (options.scaling) {
      const specs: ScalingSpec[] = options.scalingSizes.map((bytes) => ({
        tree: { variant: 'mixed', bytes },
      }))
      if (options.smallFiles > 0) specs.push({ tree: { variant: 'small-files', files: options.smallFiles } })
      if (options.splitSize !== undefined) specs.push(splitSpec(options.splitSize))
      await report('scaling', await runScaling(ctx, dataDir, specs, options.repeat))
    } else {
      const tree = options.manyFilesOnly
        ? undefined
        : await ensureTree(dataDir, { variant: 'mixed', bytes: options.size })
      if (tree && !options.linkOnly && !options.incrementalOnly)
        await report(LOOPBACK.section, await runComparison(ctx, tree, options.repeat, LOOPBACK))
      if (options.manyFiles > 0 && !options.linkOnly && !options.incrementalOnly) {
        const many = await ensureTree(dataDir, { variant: 'many-files', files: options.manyFiles })
        await ctx.clearScratch()
        await report(MANY_FILES.section, await runComparison(ctx, many, options.repeat, MANY_FILES))
      }
      if (!options.linkOnly) await incremental(ctx, 'incremental', 'on loopback')
      if (options.link && tree) {
        await ctx.clearScratch()
        await bed.stop()
        bed = undefined
        link = createLink(options.link)
        bed = await startTestbedProcess(TOKEN_TTL_SECONDS, link)
        ctx = contextFor(bed, join(workDir, 'link'))
        const where = describeLink(link)
        ctx.log(`link: the bed at ${bed.registry}, ${where}`)
        const wire = await measureWire(ctx)
        const wireLine =
          `The link measured at the start: ${wire.download.toFixed(1)} MB/s down, ${wire.upload.toFixed(1)} MB/s up ` +
          `(curl, one ${formatBytes(wire.bytes)} incompressible blob over TLS; down through the redirect to the storage host).`
        ctx.log(wireLine)
        if (!options.incrementalOnly) {
          const markdown = await runComparison(ctx, tree, options.repeat, linkProfile(where))
          await report('link', `${markdown}\n${wireLine}`)
        }
        await incremental(ctx, 'incremental-link', `${where}. ${wireLine}`)
      }
    }
    if (!options.noWrite) console.log('BENCHMARKS.md updated')
  } finally {
    await cleanUp()
  }
}

/** A 1 GiB push and pull must outlast the token; the bed's default (300 s) may not on a loaded machine. */
const TOKEN_TTL_SECONDS = 3600

await main()
