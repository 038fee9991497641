import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { packDirectoryToFile } from '../../src/archive/pack.js'
import { buildManifest, EMPTY_CONFIG, parseManifest } from '../../src/oci/manifest.js'
import { MediaType } from '../../src/oci/media-types.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string
beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-repush-verify-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

function tree(dir: string, content: string): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(path.join(dir, 'tool'), content)
  return dir
}

test('a re-push does not reuse a layer someone swapped under the tag while keeping its annotation', async () => {
  const repository = `${bed.registry}/alice/swapped`
  const auth = { username: 'alice', token: bed.users.alice as string }
  const env = { GITHUB_SHA: 'c'.repeat(40), SOURCE_DATE_EPOCH: '1700000000' }
  const src = tree(path.join(work, 'a', 'dist'), 'the real tool\n')
  const first = await runAction({ inputs: { path: src, repository, tag: 'latest', ...auth }, env })
  expect(first.code).toBe(0)

  // Someone who can write the tag publishes other bytes under the annotation of ours.
  const repo = new Repository({
    registry: bed.registry,
    repository: 'alice/swapped',
    credentials: { username: 'alice', password: auth.token },
    actions: ['pull', 'push'],
  })
  const ours = parseManifest((await repo.getManifest('latest')).bytes).layers[0]!
  const evilFile = path.join(work, 'evil.tar.gz')
  const evil = await packDirectoryToFile(tree(path.join(work, 'evil', 'dist'), 'a backdoor\n'), evilFile, {
    compression: 'gzip',
    prefix: 'dist',
  })
  const swapped = { mediaType: MediaType.LayerTarGzip, digest: evil.digest, size: evil.size }
  await repo.pushBlob(swapped, () => createReadStream(evilFile))
  const forged = buildManifest({
    artifactType: 'application/vnd.oci-artifact-action.directory.v1',
    config: EMPTY_CONFIG,
    layers: [{ ...swapped, annotations: ours.annotations }],
  })
  await repo.putManifest(forged.bytes, forged.mediaType, 'latest')

  const again = await runAction({ inputs: { path: src, repository, tag: 'latest', ...auth }, env })
  expect(again.code).toBe(0)
  expect(again.stdout).toMatch(/::warning::latest's layer .* does not hold the content its annotation claims/)
  expect(again.stdout).not.toContain('The tree is unchanged since latest')
  // packed anew: the same tree gives the first push's layer and manifest again
  expect(again.outputs.digest).toBe(first.outputs.digest)
  const out = path.join(work, 'out')
  const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'latest', ...auth } })
  expect(pull.code).toBe(0)
  expect(readFileSync(path.join(out, 'tool'), 'utf8')).toBe('the real tool\n')
})
