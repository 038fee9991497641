import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../helpers/run-action.js'
import { writeSeedLayout } from '../integration/layout/seed-layout.js'
import { skopeo, startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string
let creds: Record<string, string>

beforeAll(async () => {
  bed = await startTestbed()
  creds = { username: 'alice', token: bed.users.alice as string }
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-layout-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

describe('format: OCI image layouts through dist/index.js', () => {
  test("the seed's layout is pushed as-is: same manifest digest, tagged with its ref name; pulls back as a directory", async () => {
    const seed = await writeSeedLayout(path.join(work, 'anakin'), 'seed content')
    const repository = `${bed.registry}/alice/anakin`
    const push = await runAction({ inputs: { path: seed.dir, repository, ...creds } })
    expect(push.code).toBe(0)
    expect(push.outputs.digest).toBe(seed.manifest.digest)
    expect(push.outputs.tags).toBe('1.0.0')
    expect(push.outputs.ref).toBe(`${repository}@${seed.manifest.digest}`)
    const raw = await skopeo([
      'inspect',
      '--raw',
      '--creds',
      `alice:${creds.token}`,
      `docker://${repository}:1.0.0`,
    ])
    expect(raw.trim()).toBe(
      readFileSync(path.join(seed.dir, 'blobs', 'sha256', seed.manifest.digest.slice(7)), 'utf8').trim(),
    )

    const out = path.join(work, 'anakin-out')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: '1.0.0', ...creds } })
    expect(pull.code).toBe(0)
    expect(readFileSync(path.join(out, 'anakin', 'README.md'), 'utf8')).toContain('seed content')
  })

  test('format: directory packs a layout folder as ordinary files instead', async () => {
    const seed = await writeSeedLayout(path.join(work, 'as-dir'), 'as a directory')
    const repository = `${bed.registry}/alice/layout-as-dir`
    const push = await runAction({
      inputs: { path: seed.dir, repository, tag: 'v1', format: 'directory', ...creds },
    })
    expect(push.code).toBe(0)
    expect(push.outputs.digest).not.toBe(seed.manifest.digest)
    const out = path.join(work, 'as-dir-out')
    await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...creds } })
    expect(existsSync(path.join(out, 'oci-layout'))).toBe(true)
    expect(existsSync(path.join(out, 'index.json'))).toBe(true)
  })

  test('pull with format: oci-layout writes a layout that skopeo reads, adding to one already there', async () => {
    const repository = `${bed.registry}/alice/to-layout`
    const a = await writeSeedLayout(path.join(work, 'src-a'), 'first', 'one')
    const b = await writeSeedLayout(path.join(work, 'src-b'), 'second', 'two')
    await runAction({ inputs: { path: a.dir, repository, tag: 'one', ...creds } })
    await runAction({ inputs: { path: b.dir, repository, tag: 'two', ...creds } })

    const target = path.join(work, 'pulled-layout')
    for (const tag of ['one', 'two']) {
      const pull = await runAction({
        inputs: { mode: 'pull', format: 'oci-layout', path: target, repository, tag, ...creds },
      })
      expect(pull.code).toBe(0)
    }
    const index = JSON.parse(readFileSync(path.join(target, 'index.json'), 'utf8'))
    const names = index.manifests.map(
      (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
    )
    expect(names.sort()).toEqual(['one', 'two'])
    const copy = path.join(work, 'skopeo-copy')
    await skopeo(['copy', `oci:${target}:two`, `oci:${copy}:two`])
    const copied = JSON.parse(readFileSync(path.join(copy, 'index.json'), 'utf8'))
    expect(copied.manifests[0].digest).toBe(b.manifest.digest)
  })

  test('a broken layout is refused before anything reaches the registry, naming the file', async () => {
    const seed = await writeSeedLayout(path.join(work, 'broken'), 'broken')
    const layerFile = path.join(seed.dir, 'blobs', 'sha256', seed.layer.digest.slice(7))
    writeFileSync(layerFile, 'tampered')
    const before = bed.tokenRequests.length
    const push = await runAction({
      inputs: { path: seed.dir, repository: `${bed.registry}/alice/broken`, ...creds },
    })
    expect(push.code).not.toBe(0)
    expect(push.stdout).toContain(seed.layer.digest.slice(7))
    expect(bed.tokenRequests.length).toBe(before)

    writeFileSync(path.join(seed.dir, 'index.json'), '{ not json')
    const bad = await runAction({
      inputs: { path: seed.dir, repository: `${bed.registry}/alice/broken`, ...creds },
    })
    expect(bad.code).not.toBe(0)
    expect(bad.stdout).toMatch(/::error::.*index\.json/)
  })
})
