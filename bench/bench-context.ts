import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join, relative } from 'node:path'
import type { BenchTestbed } from './testbed-client.js'
import { runAction, type ActionProcessOptions, type ActionRun, type StepOptions } from './action-process.js'
import { skopeoTls } from './baseline.js'
import { runMeasured } from './measured-process.js'
import type { RegistryTarget } from './registry-token.js'

export type OursPart = 'action' | 'cache'

/** What every part of a benchmark run shares: the registry, where data goes, how to run ours. */
export class BenchContext {
  /** Why a part of ours is not timed, once known: `action` (push and pull) or `cache`. */
  readonly skipped = new Map<OursPart, string>()
  /** Other work on the machine skews every number: the report states how busy it was. */
  readonly loadAtStart = loadavg()[0]!

  readonly root: string
  readonly bed: BenchTestbed
  readonly workDir: string
  /** Where the pulled trees went, for the report (a tmpfs or the disk). */
  readonly workDirLabel: string
  /** The work dir is in memory: see clearScratch. */
  readonly workDirTmpfs: boolean
  /** The bundle under test: index.js and post/index.js. */
  readonly dist: string
  /** Leave cache save and restore out, baseline and ours. */
  readonly skipCache: boolean
  /** Which build the numbers are for, for the report. */
  readonly bundleLabel: string

  constructor(o: {
    root: string
    bed: BenchTestbed
    workDir: string
    workDirLabel: string
    workDirTmpfs: boolean
    dist: string
    baselineOnly: boolean
    skipCache: boolean
  }) {
    ;({
      root: this.root,
      bed: this.bed,
      workDir: this.workDir,
      workDirLabel: this.workDirLabel,
      workDirTmpfs: this.workDirTmpfs,
      dist: this.dist,
      skipCache: this.skipCache,
    } = o)
    this.bundleLabel = describeBundle(o.root, o.dist)
    const entry = join(o.dist, 'index.js')
    const reason = o.baselineOnly ? '--baseline-only' : existsSync(entry) ? undefined : `${entry} is missing`
    if (reason) for (const part of ['action', 'cache'] as const) this.skipped.set(part, reason)
  }

  get user(): string {
    return 'alice'
  }

  target(repository: string): RegistryTarget {
    return {
      registry: this.bed.registry,
      repository: `${this.user}/${repository}`,
      username: this.user,
      password: this.bed.users[this.user]!,
      caFile: this.bed.caFile,
    }
  }

  #scratches = 0

  /**
   * A new, empty folder under the work dir, never one used before: nothing is deleted until the
   * run ends. On ext4 without a journal (this VM's disk), every file created in the minutes after
   * a mass delete pays for it: the allocator skips each recently deleted inode, one by one, for
   * every new one (`recently_deleted()` in the kernel profile). Deleting the last pull's tree
   * before the next one made the next extraction 1.5 to 3 times slower for whichever side came
   * after it, baseline or ours; the timings would then measure the order of the steps.
   */
  async scratch(name: string): Promise<string> {
    const dir = join(this.workDir, `${name}-${++this.#scratches}`)
    await mkdir(dir, { recursive: true })
    return dir
  }

  /**
   * Between repeats: on a tmpfs the copies of earlier repeats are deleted (cheap there, and
   * several GB of them crowd the memory both sides allocate from); on disk they stay until the
   * run ends, for the reason given at scratch().
   */
  async clearScratch(): Promise<void> {
    if (!this.workDirTmpfs) return
    for (const entry of await readdir(this.workDir).catch(() => [])) {
      await rm(join(this.workDir, entry), { recursive: true, force: true })
    }
  }

  /** Our action, run by the Node 24 this benchmark runs on (scripts/bench.sh picks it). */
  runOurs(inputs: Record<string, string>, step: StepOptions = {}): Promise<ActionRun> {
    const o: ActionProcessOptions = {
      root: this.root,
      dist: this.dist,
      node: process.execPath,
      scratch: this.workDir,
      // how a runner trusts a private CA: the action reads no CA input of its own
      env: this.bed.caFile ? { NODE_EXTRA_CA_CERTS: this.bed.caFile } : {},
    }
    return runAction(o, { username: this.user, token: this.bed.users[this.user]!, ...inputs }, step)
  }

  /** The total of a pushed manifest's layer sizes, read with skopeo (an independent client). */
  async layerBytes(repository: string, tag: string): Promise<number> {
    return (await this.layerSizes(repository, tag)).reduce((sum, size) => sum + size, 0)
  }

  /** A pushed manifest's layer sizes, in order, read with skopeo. */
  async layerSizes(repository: string, tag: string): Promise<number[]> {
    const t = this.target(repository)
    const { stdout } = await runMeasured('skopeo', [
      'inspect',
      '--raw',
      ...skopeoTls('both', t),
      '--creds',
      `${t.username}:${t.password}`,
      `docker://${t.registry}/${t.repository}:${tag}`,
    ])
    const manifest = JSON.parse(stdout) as { layers?: { size: number }[] }
    return (manifest.layers ?? []).map((layer) => layer.size)
  }

  log(line: string): void {
    console.log(line)
  }

  /**
   * Runs one of our steps; the first failure marks ours as skipped with its reason, so the
   * baselines still get measured and the report says plainly why ours is missing.
   */
  async tryOurs<T>(part: OursPart, what: string, step: () => Promise<T>): Promise<T | undefined> {
    if (this.skipped.has(part)) return undefined
    try {
      return await step()
    } catch (error) {
      const reason = `${what} failed: ${firstLines((error as Error).message)}`
      this.skipped.set(part, reason)
      this.log(`  ours (${part}): skipped from here on: ${reason}`)
      return undefined
    }
  }
}

function firstLines(text: string): string {
  return text.split('\n').filter(Boolean).slice(0, 6).join(' / ').slice(0, 400)
}

/** `dist/ with the sources at 1a2b3c4 (plus uncommitted changes)`, or the other bundle's path. */
function describeBundle(root: string, dist: string): string {
  const where = relative(root, dist) || '.'
  if (where !== 'dist') return `the bundle in ${where}/`
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim()
    const head = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain', '--', 'src', 'dist') !== ''
    return `dist/ with the sources at ${head}${dirty ? ' plus uncommitted changes' : ''}`
  } catch {
    return 'dist/'
  }
}
