import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { baselineCacheRestore, baselineCacheSave } from './baseline.js'
import type { ActionRun } from './action-process.js'
import type { BenchContext } from './bench-context.js'
import type { GeneratedTree } from './generate-tree.js'
import { formatBytes, formatMs, median } from './report.js'
import { Samples } from './samples.js'
import { SeededRandom } from './seeded-random.js'
import { treeDigest } from './tree-digest.js'
import { Chunker, chunkSizes } from '../src/archive/chunker.js'
import { randomBytes, createHash } from 'node:crypto'

/**
 * Incremental cache saves (issue 26), beside the cache rows of the same run: the tree saved once
 * (a miss: every chunk goes up), then, as a build would, each scenario restores it through
 * restore-keys into a fresh workspace, changes it and saves under a new key. Against a full save
 * of ours (the first) and actions/cache's pipeline (`tar | zstd -T0` + one upload) on the changed
 * tree. Each scenario starts from the same base, so each saves against it alone.
 */
export interface Scenario {
  name: string
  what: string
  change: (dir: string, random: SeededRandom) => void
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'folders',
    what: '(a) 5% of the files rewritten, whole folders as a build rewrites a package; 1% deleted, 1% added',
    change: (dir, random) => changeFolders(dir, random),
  },
  {
    name: 'uniform',
    what: "(a') 5% of the files rewritten, picked uniformly at random",
    change: (dir, random) => {
      for (const file of allFiles(dir)) if (random.next() < 0.05) rewrite(file, random)
    },
  },
  {
    name: 'insert',
    what: '(b) 7 bytes inserted 4 KiB into the largest file',
    change: (dir) => {
      const largest = allFiles(dir).sort((a, b) => statSync(b).size - statSync(a).size)[0] as string
      const bytes = readFileSync(largest)
      writeFileSync(
        largest,
        Buffer.concat([bytes.subarray(0, 4096), Buffer.from('inserted'), bytes.subarray(4096)]),
      )
    },
  },
  { name: 'unchanged', what: '(c) nothing changed', change: () => {} },
]

export async function runIncremental(
  ctx: BenchContext,
  tree: GeneratedTree,
  repeat: number,
): Promise<string> {
  const s = new Samples()
  const notes: Record<string, { chunks: number[]; uploaded: number[]; pipelineBytes: number[] }> = {}
  const line = basename(tree.dir)
  for (let i = 1; i <= repeat; i++) {
    ctx.log(`incremental run ${i}/${repeat}`)
    const repository = `${ctx.bed.registry}/alice/cache-incremental-${tree.name.toLowerCase()}-${i}`
    const baseKey = `base-${i}`
    const main = await ctx.runOurs(
      { mode: 'cache', path: line, key: baseKey, repository, 'cache-incremental': 'true' },
      { workspace: join(tree.dir, '..') },
    )
    const full = await ctx.runOurs(
      { mode: 'cache', path: line, key: baseKey, repository, 'cache-incremental': 'true' },
      { workspace: join(tree.dir, '..'), post: true, state: main.state },
    )
    const fullSent = savedBytes(full)
    s.add('time:ours:full', full.wallMs)
    s.add('bytes:ours:full', fullSent.uploaded)
    ctx.log(
      `  ours full save      ${formatMs(full.wallMs)}  ${formatBytes(fullSent.uploaded)} in ${fullSent.chunks} chunks`,
    )
    const pipeTarget = ctx.target(`cache-incremental-pipeline-${tree.name.toLowerCase()}-${i}`)
    const pipeFull = await baselineCacheSave(tree.dir, await ctx.scratch('inc-pipeline'), pipeTarget)
    s.add('time:pipeline:full', pipeFull.wallMs)
    s.add('bytes:pipeline:full', pipeFull.size)
    const pipeDest = await ctx.scratch('inc-pipeline-restored')
    const pipeRestore = await baselineCacheRestore(
      pipeTarget,
      pipeFull.digest,
      await ctx.scratch('inc-pipe-r'),
      pipeDest,
    )
    s.add('time:pipeline:restore', pipeRestore.wallMs)
    rmSync(pipeDest, { recursive: true, force: true })
    ctx.log(
      `  pipeline full save  ${formatMs(pipeFull.wallMs)}  ${formatBytes(pipeFull.size)}; restore ${formatMs(pipeRestore.wallMs)}`,
    )

    for (const scenario of SCENARIOS) {
      const workspace = await ctx.scratch(`inc-${scenario.name}`)
      const key = `${scenario.name}-${i}`
      const inputs = {
        mode: 'cache',
        path: line,
        key,
        'restore-keys': baseKey,
        repository,
        'cache-incremental': 'true',
      }
      const restored = await ctx.runOurs(inputs, { workspace })
      if (restored.outputs['cache-matched-key'] !== baseKey)
        throw new Error(`${key}: the base was not restored`)
      if (
        i === 1 &&
        scenario.name === 'unchanged' &&
        (await treeDigest(join(workspace, line))) !== (await treeDigest(tree.dir))
      )
        throw new Error('the chunked restore differs from the tree saved')
      s.add('time:ours:restore', restored.wallMs)
      s.add('rss:ours:restore', restored.peakRssBytes ?? 0)
      scenario.change(join(workspace, line), new SeededRandom(1000 + i))
      const saved = await ctx.runOurs(inputs, { workspace, post: true, state: restored.state })
      const sent = savedBytes(saved)
      s.add(`time:ours:${scenario.name}`, saved.wallMs)
      s.add(`rss:ours:${scenario.name}`, saved.peakRssBytes ?? 0)
      const pipe = await baselineCacheSave(
        join(workspace, line),
        await ctx.scratch('inc-pipeline'),
        ctx.target(`cache-incremental-pipeline-${tree.name.toLowerCase()}-${i}-${scenario.name}`),
      )
      s.add(`time:pipeline:${scenario.name}`, pipe.wallMs)
      const note = (notes[scenario.name] ??= { chunks: [], uploaded: [], pipelineBytes: [] })
      note.chunks.push(sent.newChunks)
      note.uploaded.push(sent.uploaded)
      note.pipelineBytes.push(pipe.size)
      ctx.log(
        `  ${scenario.name.padEnd(10)} restore ${formatMs(restored.wallMs)}, save ${formatMs(saved.wallMs)} ` +
          `(${sent.newChunks} new chunks, ${formatBytes(sent.uploaded)}); pipeline ${formatMs(pipe.wallMs)} ` +
          `(${formatBytes(pipe.size)})`,
      )
      rmSync(workspace, { recursive: true, force: true })
    }
  }
  return table(tree, repeat, s, notes)
}

/**
 * The chunker's own speed on one core (the gear-hash loop and the copies into chunks), and
 * sha256's beside it, on 256 MiB of random bytes held in memory: what bounds a save of an
 * unchanged tree, since those two run over every byte.
 */
export async function chunkerSpeed(): Promise<string> {
  const data = randomBytes(256 << 20)
  const rates: number[] = []
  for (let rep = 0; rep < 3; rep++) {
    const chunker: Chunker = new Chunker(chunkSizes(0), async (chunk): Promise<void> =>
      chunker.pool.release(chunk),
    )
    const started = performance.now()
    for (let at = 0; at < data.length; at += 1 << 20) await chunker.write(data.subarray(at, at + (1 << 20)))
    await chunker.end()
    rates.push(256 / ((performance.now() - started) / 1000))
  }
  const started = performance.now()
  createHash('sha256').update(data).digest()
  const sha = 256 / ((performance.now() - started) / 1000)
  return (
    `Chunker (FastCDC gear hash, 1 MiB average) on one core: ${rates.map((r) => r.toFixed(0)).join(', ')} MiB/s ` +
    `(3 runs); sha256 ${sha.toFixed(0)} MiB/s.`
  )
}

function table(
  tree: GeneratedTree,
  repeat: number,
  s: Samples,
  notes: Record<string, { chunks: number[]; uploaded: number[]; pipelineBytes: number[] }>,
): string {
  const spread = (name: string) => {
    const all = s.all(name)
    return all.length > 1 ? ` (${all.map(formatMs).join(', ')})` : ''
  }
  const fullBytes = s.median('bytes:ours:full') as number
  const rows = SCENARIOS.map((scenario) => {
    const ours = s.median(`time:ours:${scenario.name}`) as number
    const pipe = s.median(`time:pipeline:${scenario.name}`) as number
    const n = notes[scenario.name] as { chunks: number[]; uploaded: number[]; pipelineBytes: number[] }
    const uploaded = median(n.uploaded)
    return (
      `| ${scenario.what} | ${formatBytes(uploaded)} (${((100 * uploaded) / fullBytes).toFixed(1)}% of a full save), ` +
      `${median(n.chunks)} new chunks | ${formatMs(ours)}${spread(`time:ours:${scenario.name}`)} | ` +
      `${formatMs(pipe)}${spread(`time:pipeline:${scenario.name}`)} | ${(ours / pipe).toFixed(2)} | ` +
      `${formatBytes(uploaded)} vs ${formatBytes(median(n.pipelineBytes))} |`
    )
  })
  const restore = s.median('time:ours:restore') as number
  const pipeRestore = s.median('time:pipeline:restore') as number
  return [
    `Tree: ${tree.name} (${formatBytes(tree.bytes)}, ${tree.files} files); median of ${repeat}, spreads in brackets.`,
    '',
    '| scenario | uploaded by ours | ours save | pipeline save | ratio | package growth (ours vs pipeline) |',
    '| --- | --- | --- | --- | --- | --- |',
    `| full save (a miss) | ${formatBytes(fullBytes)} | ${formatMs(s.median('time:ours:full') as number)}${spread('time:ours:full')} | ` +
      `${formatMs(s.median('time:pipeline:full') as number)}${spread('time:pipeline:full')} | ` +
      `${((s.median('time:ours:full') as number) / (s.median('time:pipeline:full') as number)).toFixed(2)} | ` +
      `${formatBytes(fullBytes)} vs ${formatBytes(s.median('bytes:pipeline:full') as number)} |`,
    ...rows,
    `| restore of the chunked cache (each scenario's main step) | - | ${formatMs(restore)} | ${formatMs(pipeRestore)} | ` +
      `${(restore / pipeRestore).toFixed(2)} | peak RSS ${formatBytes(s.max('rss:ours:restore') ?? 0)} |`,
  ].join('\n')
}

// "Cache saved with key K as R:T (1 path(s), N chunks, SIZE, SENT uploaded)" and "N new chunk(s)"
function savedBytes(run: ActionRun): { uploaded: number; chunks: number; newChunks: number } {
  const saved = /\((\d+) path\(s\), (\d+) chunks, [^,]+, ([\d.]+) (B|kB|MB|GB) uploaded\)/.exec(run.stdout)
  if (!saved) throw new Error(`no chunked save in the post step's log: ${run.stdout.slice(-600)}`)
  const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 }[saved[4] as 'B']
  const fresh = [...run.stdout.matchAll(/(\d+) new chunk\(s\)/g)].reduce((n, m) => n + Number(m[1]), 0)
  return { uploaded: Number(saved[3]) * unit, chunks: Number(saved[2]), newChunks: fresh }
}

function allFiles(dir: string): string[] {
  return execFileSync('find', [dir, '-type', 'f'], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .split('\n')
    .filter(Boolean)
    .sort()
}

function rewrite(file: string, random: SeededRandom): void {
  const size = statSync(file).size
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = 32 + random.int(0, 94)
  writeFileSync(file, bytes)
}

// Whole leaf folders (the generator's src/.../f<n>, ~40 files each) until 5% of the files are
// rewritten; then 1% of the files deleted (whole folders) and as many added in a new folder.
function changeFolders(dir: string, random: SeededRandom): void {
  const files = allFiles(dir)
  const byFolder = new Map<string, string[]>()
  for (const file of files) {
    const folder = file.slice(0, file.lastIndexOf('/'))
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), file])
  }
  const folders = [...byFolder.keys()].filter((f) => (byFolder.get(f) as string[]).length > 1)
  const pick = () => folders.splice(random.int(0, folders.length - 1), 1)[0] as string
  for (let rewritten = 0; rewritten < files.length * 0.05 && folders.length > 0;) {
    const folder = pick()
    for (const file of byFolder.get(folder) as string[]) rewrite(file, random)
    rewritten += (byFolder.get(folder) as string[]).length
  }
  for (let deleted = 0; deleted < files.length * 0.01 && folders.length > 0;) {
    const folder = pick()
    rmSync(folder, { recursive: true, force: true })
    deleted += (byFolder.get(folder) as string[]).length
  }
  const added = join(dir, 'src', 'added-by-this-build')
  mkdirSync(added, { recursive: true })
  for (let n = 0; n < Math.ceil(files.length * 0.01); n++) {
    const file = join(added, `new-${n}.txt`)
    writeFileSync(file, Buffer.alloc(random.int(512, 16384), 97))
    rewrite(file, random)
  }
}
