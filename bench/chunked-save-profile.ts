/**
 * Where a full chunked save's time goes (every chunk new), without the action around it: the
 * tar alone; the tar cut, hashed and compressed with nothing sent; then sent to the test bed's
 * registry (a fresh repository each time, so every chunk is new), at several in-flight counts.
 * node .build/bench/chunked-save-profile.js <data dir> <many-files|mixed> [sizeClass] [inFlight,...]
 */
import { readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname } from 'node:path'
import { Readable } from 'node:stream'
import { streamTar } from '../src/archive/pack.js'
import { saveChunkedTar } from '../src/cache/chunks/chunked-save.js'
import { Repository } from '../src/oci/repository.js'
import { uploadIfMissing } from '../src/oci/upload/produced-upload.js'
import { startTestbed } from '../__tests__/testbed/index.js'
import { ensureTree, MiB } from './generate-tree.js'

const quiet = { debug: () => {}, info: () => {}, warning: () => {} }

async function main(): Promise<void> {
  const [dataDir, variant, classArg, flightArg] = process.argv.slice(2) as [string, string, string?, string?]
  const tree = await ensureTree(
    dataDir,
    variant === 'many-files'
      ? { variant: 'many-files', files: 60000 }
      : { variant: 'mixed', bytes: 256 * MiB },
  )
  const sizeClass = Number(classArg ?? 0)
  const flights = (flightArg ?? `${Math.max(8, availableParallelism() + 2)}`).split(',').map(Number)
  const tar = (emit: (b: Buffer) => Promise<void>) =>
    streamTar(tree.dir, { includeGit: false, mtime: 'preserve' }, emit)
  const bed = await startTestbed()
  // CPU seconds, ours and the registry's: on a shared machine the wall time says less
  const root = dirname(bed.storageDir)
  const registryPid = readdirSync('/proc').find((pid) => {
    try {
      return (
        /^[0-9]+$/.test(pid) &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root) &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('serve')
      )
    } catch {
      return false
    }
  })
  const registryCpu = () => {
    if (!registryPid) return 0
    const fields = readFileSync(`/proc/${registryPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
    return (Number(fields[11]) + Number(fields[12])) / 100
  }
  const time = async (label: string, work: () => Promise<string>) => {
    const started = performance.now()
    const cpu = process.cpuUsage()
    const reg = registryCpu()
    const note = await work()
    const used = process.cpuUsage(cpu)
    console.log(
      `${label.padEnd(34)} ${((performance.now() - started) / 1000).toFixed(2)} s wall, ` +
        `cpu ours ${((used.user + used.system) / 1e6).toFixed(2)} s, registry ${(registryCpu() - reg).toFixed(2)} s  ${note}`,
    )
  }
  let n = 0
  try {
    for (let round = 0; round < 2; round++) {
      await time('tar only', async () => {
        let bytes = 0
        await tar(async (b) => {
          bytes += b.length
        })
        return `${(bytes / MiB).toFixed(0)} MiB`
      })
      await time(`cut+hash+compress, class ${sizeClass}`, async () => {
        const r = await saveChunkedTar(tar, {
          sizeClass,
          known: new Map(),
          concurrency: 8,
          put: async (l) => l.size,
        })
        return `${r.chunks.length} chunks, ${(r.sent / MiB).toFixed(1)} MiB`
      })
      for (const flight of flights)
        for (const head of [true, false]) {
          const repo = new Repository({
            registry: bed.registry,
            repository: `alice/profile-${process.pid}-${n++}`,
            credentials: { username: 'alice', password: 'alice-secret' },
            actions: ['pull', 'push'],
            logger: quiet,
          })
          await time(`+ upload, ${flight} in flight${head ? '' : ', no HEAD'}`, async () => {
            const r = await saveChunkedTar(tar, {
              sizeClass,
              known: new Map(),
              concurrency: flight,
              put: head
                ? (layer, bytes) =>
                    uploadIfMissing(repo, layer, () => Readable.from(bytes), { logger: quiet })
                : async (layer, bytes) => {
                    await repo.pushBlob(layer, () => Readable.from(bytes))
                    return layer.size
                  },
            })
            return `${r.chunks.length} chunks, ${(r.sent / MiB).toFixed(1)} MiB`
          })
        }
    }
  } finally {
    await bed.stop()
  }
}

await main()
