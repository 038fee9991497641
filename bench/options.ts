import { parseArgs } from 'node:util'
import { parseSize } from './generate-tree.js'

export interface BenchOptions {
  /** The mixed tree's size for the comparison run. */
  size: number
  /** Timings are repeated this many times and the median reported (1-3). */
  repeat: number
  /** Run the scaling series (our push and pull at several sizes) instead of the comparison. */
  scaling: boolean
  scalingSizes: number[]
  smallFiles: number
  /** File count of the many-files tree compared after the mixed one (0 leaves it out). */
  manyFiles: number
  /** Compare the many-files tree alone (trial runs). */
  manyFilesOnly: boolean
  /** Skip the action and time the baselines alone. */
  baselineOnly: boolean
  /** Skip cache save and restore. */
  noCache: boolean
  /** Another bundle to time instead of dist/ (say, a build from before a change). */
  dist?: string
  /** Print only; leave BENCHMARKS.md alone (for trial runs at toy sizes). */
  noWrite: boolean
  /** Where pulled trees, layouts and cache files go (default: see work-dir.ts). */
  workDir?: string
  /** After the loopback comparison, the same comparison across a link shaped to this tc rate (`400mbit`). */
  link?: string
  /** With `link`: leave the loopback comparison out (trial runs). */
  linkOnly: boolean
  /** Trees (sizes) for the incremental cache rows after the cache rows; empty: none */
  incremental: number[]
  /** Only the incremental rows: no push, pull or one-shot cache rows (trial and focused runs) */
  incrementalOnly: boolean
  /** Also the many-files tree (--many-files N) in the incremental rows */
  incrementalManyFiles: boolean
  /** With --scaling: a row for a 1 GiB tree pushed with the action's max-layer-size set to this. */
  splitSize?: number
}

export const USAGE = `usage: npm run bench -- [options]
  --size SIZE          tree size for the comparison (64M, 256M, 1G; default 256M)
  --repeat N           repeat each timing N times (1-3) and report the median (default 1)
  --scaling            our push and pull at 64M, 256M, 1G and 20,000 small files
  --scaling-sizes LIST sizes for --scaling, comma-separated (default 64M,256M,1G)
  --small-files N      file count of the small-files tree in --scaling (default 20000; 0 skips it)
  --many-files N        after the mixed tree, the same comparison on a tree of N small text files
                       in packages, as node_modules (default 60000; 0 skips it)
  --many-files-only    compare the many-files tree alone (for trial runs)
  --baseline-only      time the baselines alone (until the action's push and pull exist)
  --no-cache           skip cache save and restore
  --dist DIR           time the bundle in DIR (index.js, post/index.js) instead of dist/
  --no-bundle          (scripts/bench.sh) use dist/ as it is instead of rebuilding it
  --no-write           print the tables but do not update BENCHMARKS.md
  --work-dir DIR       where pulled trees and scratch files go (default: a tmpfs when
                       /dev/shm has room, else bench/.data/work)
  --link RATE          after the loopback comparison, run it again with the registry, token
                       service and storage host behind a link shaped to RATE (tc units: 400mbit),
                       over TLS; both tables are written (root needed: a network namespace)
  --link-only          with --link: skip the loopback comparison (for trial runs)
  --incremental LIST   sizes of the trees for the incremental cache rows (a save, then changes
                       saved again through restore-keys), comma-separated; default: the
                       comparison's size; "none" skips them
  --incremental-many-files  add the many-files tree (--many-files N, node_modules-like) to
                       the incremental rows
  --incremental-only   only the incremental rows (on loopback, and across --link when given)
  --split-size SIZE    with --scaling: add a 1 GiB tree pushed and pulled with the action's
                       max-layer-size input set to SIZE, so it is split into layers`

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '256M' },
      repeat: { type: 'string', default: '1' },
      scaling: { type: 'boolean', default: false },
      'scaling-sizes': { type: 'string', default: '64M,256M,1G' },
      'small-files': { type: 'string', default: '20000' },
      'many-files': { type: 'string', default: '60000' },
      'many-files-only': { type: 'boolean', default: false },
      'baseline-only': { type: 'boolean', default: false },
      'no-cache': { type: 'boolean', default: false },
      dist: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      'work-dir': { type: 'string' },
      link: { type: 'string' },
      'link-only': { type: 'boolean', default: false },
      'split-size': { type: 'string' },
      incremental: { type: 'string' },
      'incremental-many-files': { type: 'boolean', default: false },
      'incremental-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const repeat = Number(values.repeat)
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 3) throw new Error(`--repeat must be 1, 2 or 3`)
  const smallFiles = Number(values['small-files'])
  if (!Number.isInteger(smallFiles) || smallFiles < 0) throw new Error(`--small-files must be a count`)
  const manyFiles = Number(values['many-files'])
  if (!Number.isInteger(manyFiles) || manyFiles < 0) throw new Error(`--many-files must be a count`)
  if (values['many-files-only'] && manyFiles === 0) throw new Error('--many-files-only needs a count above 0')
  if (values['link-only'] && !values.link) throw new Error('--link-only needs --link RATE')
  if (values.link && values.scaling) throw new Error('--link is for the comparison, not --scaling')
  if (values['split-size'] && !values.scaling) throw new Error('--split-size is for --scaling')
  return {
    size: parseSize(values.size),
    repeat,
    scaling: values.scaling,
    scalingSizes: values['scaling-sizes'].split(',').map(parseSize),
    smallFiles,
    manyFiles,
    manyFilesOnly: values['many-files-only'],
    baselineOnly: values['baseline-only'],
    noCache: values['no-cache'],
    dist: values.dist,
    noWrite: values['no-write'],
    workDir: values['work-dir'],
    link: values.link,
    linkOnly: values['link-only'],
    incremental:
      values.incremental === 'none'
        ? []
        : values.incremental === undefined
          ? [parseSize(values.size)]
          : values.incremental.split(',').map(parseSize),
    incrementalManyFiles: values['incremental-many-files'],
    incrementalOnly: values['incremental-only'],
    splitSize: values['split-size'] === undefined ? undefined : parseSize(values['split-size']),
  }
}
