import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { Readable } from 'node:stream'
import { findCache, readIndex } from '../../../src/cache/cache-lookup.js'
import { publishCache } from '../../../src/cache/cache-publish.js'
import { cacheTag } from '../../../src/cache/cache-tag.js'
import { descriptorOf, type Descriptor } from '../../../src/oci/descriptor.js'
import { silentLogger } from '../../../src/oci/logger.js'
import { EMPTY_CONFIG } from '../../../src/oci/manifest.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { startTestbed, type Testbed } from '../../testbed/index.js'

const MAIN = 'refs/heads/main'

let bed: Testbed
beforeAll(async () => {
  bed = await startTestbed()
})
afterAll(async () => {
  await bed?.stop()
})

function repository(name: string): Repository {
  return new Repository({
    registry: bed.registry,
    repository: `alice/${name}`,
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull', 'push'],
  })
}

/** The blobs every cache manifest below points at: the empty config and one small layer. */
async function pushBlobs(repo: Repository): Promise<Descriptor> {
  const data = Buffer.from('not really zstd, the registry does not look')
  const layer = { ...descriptorOf(data, MediaType.LayerTarZstd) }
  await repo.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
  await repo.pushBlob(layer, () => Readable.from([data]))
  return layer
}

function at(i: number): string {
  return new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString()
}

describe('the cache index on Distribution', () => {
  test('a prefix lookup over 300 saved keys is one index GET, and the newest match wins', async () => {
    const repo = repository('many-keys')
    const layer = await pushBlobs(repo)
    const started = Date.now()
    // three key families interleaved; the newest 'deps-linux-' key is not the last by name
    for (let i = 0; i < 300; i++) {
      const family = ['deps-linux-', 'deps-macos-', 'build-'][i % 3]
      const key = i === 297 ? 'deps-linux-zzz-but-older' : `${family}${String(i).padStart(4, '0')}`
      const created = i === 297 ? at(-1) : at(i)
      // one job after another: nothing races, so the index needs no settling wait
      await publishCache(repo, { scope: MAIN, key, created, layers: [layer] }, silentLogger, {
        sleep: async () => {},
      })
    }
    const saveMs = Date.now() - started
    const { entries } = await readIndex(repo, MAIN, silentLogger)
    expect(entries).toHaveLength(300)

    const query = { scopes: [MAIN], key: 'deps-linux-new', restoreKeys: ['deps-linux-'] }
    await findCache(repo, query, silentLogger) // token exchange out of the measurement
    const times: number[] = []
    let match
    for (let run = 0; run < 5; run++) {
      const t = process.hrtime.bigint()
      match = await findCache(repo, query, silentLogger)
      times.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    expect(match).toMatchObject({ key: 'deps-linux-0294', exact: false })

    const exactTimes: number[] = []
    for (let run = 0; run < 5; run++) {
      const t = process.hrtime.bigint()
      const exact = await findCache(repo, { ...query, key: 'build-0002' }, silentLogger)
      exactTimes.push(Number(process.hrtime.bigint() - t) / 1e6)
      expect(exact).toMatchObject({ key: 'build-0002', exact: true })
    }
    const indexBytes = (
      await repo.getManifest(`${(await repo.headManifest(cacheTag(MAIN, 'build-0002')))?.digest}`)
    ).bytes.length
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]?.toFixed(1)
    console.log(
      `cache index with 300 keys: prefix lookup median ${median(times)} ms, exact lookup median ` +
        `${median(exactTimes)} ms, 300 saves in ${(saveMs / 1000).toFixed(1)} s ` +
        `(manifest ${indexBytes} B, index ${await readIndexSize(repo)} B)`,
    )
  })

  test('matrix jobs finishing together into one scope all end up listed in the index', async () => {
    const repo = repository('racing')
    const layer = await pushBlobs(repo)
    const scope = 'refs/heads/matrix'
    const keys = Array.from({ length: 8 }, (_, i) => `matrix-${i}`)
    // one Repository per job, as separate jobs would have, all finishing within 300 ms
    await Promise.all(
      keys.map(async (key, i) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 300))
        await publishCache(
          repository('racing'),
          { scope, key, created: at(i), layers: [layer] },
          silentLogger,
        )
      }),
    )
    const { entries } = await readIndex(repo, scope, silentLogger)
    expect(entries.map((e) => e.key).sort()).toEqual([...keys].sort())
  })

  test('two jobs saving one key at once both succeed, without a warning, and the index lists the newer', async () => {
    const repo = repository('same-key')
    const layer = await pushBlobs(repo)
    const warnings: string[] = []
    const logger = { ...silentLogger, warning: (m: string) => void warnings.push(m) }
    const saves = await Promise.all(
      [1, 2].map((i) =>
        publishCache(
          repository('same-key'),
          { scope: MAIN, key: 'npm-1', created: at(i), layers: [layer] },
          logger,
        ),
      ),
    )
    expect(saves.map((s) => s.indexed)).toEqual([true, true])
    expect(warnings).toEqual([])
    const { entries } = await readIndex(repo, MAIN, silentLogger)
    expect(entries.map((e) => e.manifest.digest)).toEqual([saves[1]!.digest])
  })

  test('16 saves in the same instant all keep their tags, whatever the index could merge', async () => {
    const repo = repository('stampede')
    const layer = await pushBlobs(repo)
    const keys = Array.from({ length: 16 }, (_, i) => `stampede-${i}`)
    await Promise.all(
      keys.map((key, i) =>
        publishCache(
          repository('stampede'),
          { scope: MAIN, key, created: at(i), layers: [layer] },
          silentLogger,
        ),
      ),
    )
    for (const key of keys) expect(await repo.headManifest(cacheTag(MAIN, key))).toBeDefined()
    const { entries } = await readIndex(repo, MAIN, silentLogger)
    console.log(`16 saves in the same instant: ${entries.length} of 16 listed in the index`)
  })
})

async function readIndexSize(repo: Repository): Promise<number> {
  const { indexTag } = await import('../../../src/cache/cache-tag.js')
  return (await repo.getManifest(indexTag(MAIN))).bytes.length
}
