import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { parseManifest } from '../../src/oci/manifest.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction } from '../helpers/run-action.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

// asynchronous: the token service curl asks lives in this process
const run = promisify(execFile)

let bed: Testbed
let work: string

beforeAll(async () => {
  bed = await startTestbed()
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-paths-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

function auth() {
  return { username: 'alice', token: bed.users.alice as string }
}

function write(file: string, text: string, mode = 0o644): string {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, text)
  chmodSync(file, mode)
  return file
}

async function manifestOf(repository: string, reference: string) {
  const repo = new Repository({
    registry: bed.registry,
    repository,
    credentials: { username: 'alice', password: bed.users.alice as string },
    actions: ['pull'],
  })
  return parseManifest((await repo.getManifest(reference)).bytes)
}

/** What the summary's curl line does: an anonymous token, then the blob, redirects followed. */
async function curlBlob(repository: string, digest: string, out: string): Promise<void> {
  bed.setPublic(repository)
  const { stdout } = await run('curl', [
    '-sf',
    `${bed.realm}?service=${bed.service}&scope=repository:${repository}:pull`,
  ])
  const token = (JSON.parse(stdout) as { token: string }).token
  await run('curl', [
    '-sfL',
    '-H',
    `Authorization: Bearer ${token}`,
    `${bed.url}/v2/${repository}/blobs/${digest}`,
    '-o',
    out,
  ])
}

/** A push to `repository` (tag v1 unless given) from the test's workspace, or a temp one. */
function push(repository: string, inputs: Record<string, string | boolean>, workspace?: string) {
  return runAction({
    workspace,
    inputs: { repository: `${bed.registry}/${repository}`, tag: 'v1', ...auth(), ...inputs },
  })
}

function pull(repository: string, tag: string, out: string) {
  return runAction({
    inputs: { mode: 'pull', path: out, repository: `${bed.registry}/${repository}`, tag, ...auth() },
  })
}

describe('push paths through dist/', () => {
  test('globs with an exclusion pack the matches below their common folder; hidden files stay out', async () => {
    const workspace = path.join(work, 'globs')
    write(path.join(workspace, 'dist/app-1.tar.gz'), 'one')
    write(path.join(workspace, 'dist/app-2.tar.gz'), 'two')
    write(path.join(workspace, 'dist/app.map'), 'not matched')
    write(path.join(workspace, 'docs/guide.md'), 'guide')
    write(path.join(workspace, 'docs/draft.tmp'), 'excluded')
    write(path.join(workspace, 'docs/.env'), 'SECRET=1')
    write(path.join(workspace, 'docs/.cache/x'), 'hidden dir')
    const repository = 'alice/globs'
    const pushed = await push(repository, { path: 'dist/*.tar.gz\ndocs/\n!**/*.tmp' }, workspace)
    expect(pushed.stderr).toBe('')
    expect(pushed.code).toBe(0)

    const out = path.join(work, 'globs-out')
    const pulled = await pull(repository, 'v1', out)
    expect(pulled.code).toBe(0)
    expect(readFileSync(path.join(out, 'dist/app-1.tar.gz'), 'utf8')).toBe('one')
    expect(readFileSync(path.join(out, 'dist/app-2.tar.gz'), 'utf8')).toBe('two')
    expect(readFileSync(path.join(out, 'docs/guide.md'), 'utf8')).toBe('guide')
    for (const gone of ['dist/app.map', 'docs/draft.tmp', 'docs/.env', 'docs/.cache']) {
      expect([gone, existsSync(path.join(out, gone))]).toEqual([gone, false])
    }
  })

  test('include-hidden-files: true packs them', async () => {
    const src = path.join(work, 'hidden', 'site')
    write(path.join(src, 'index.html'), 'hi')
    write(path.join(src, '.well-known/security.txt'), 'contact')
    const repository = 'alice/hidden'
    expect((await push(repository, { path: src, 'include-hidden-files': true })).code).toBe(0)
    const out = path.join(work, 'hidden-out')
    expect((await pull(repository, 'v1', out)).code).toBe(0)
    expect(readFileSync(path.join(out, '.well-known/security.txt'), 'utf8')).toBe('contact')
  })

  test('a single file is its own layer: curl of the blob is the file, and a pull brings it back executable', async () => {
    const tool = write(path.join(work, 'single', 'bin', 'tool'), '#!/bin/sh\necho tool\n', 0o755)
    const repository = 'alice/single-file'
    expect((await push(repository, { path: tool })).code).toBe(0)
    const manifest = await manifestOf(repository, 'v1')
    expect(manifest.layers).toHaveLength(1)
    const layer = manifest.layers[0]!
    expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar')
    expect(layer.annotations).toEqual({
      'org.opencontainers.image.title': 'tool',
      'io.github.oci-artifact-action.file.mode': '0755',
    })

    const fetched = path.join(work, 'single', 'fetched')
    await curlBlob(repository, layer.digest, fetched)
    expect(readFileSync(fetched)).toEqual(readFileSync(tool))

    const out = path.join(work, 'single-out')
    const pulled = await pull(repository, 'v1', out)
    expect(pulled.code).toBe(0)
    expect(readFileSync(path.join(out, 'tool'))).toEqual(readFileSync(tool))
    expect(statSync(path.join(out, 'tool')).mode & 0o111).not.toBe(0)
  })

  test('format: files pushes one layer per file in name order; the pull saves each with its mode', async () => {
    const release = path.join(work, 'files', 'release')
    write(path.join(release, 'tool-linux-amd64'), 'linux binary', 0o755)
    write(path.join(release, 'tool-darwin-arm64'), 'mac binary', 0o755)
    write(path.join(release, 'checksums.txt'), 'sums')
    const repository = 'alice/files'
    const paths = `${release}/tool-*\n${release}/checksums.txt`
    expect((await push(repository, { path: paths, format: 'files' })).code).toBe(0)
    const manifest = await manifestOf(repository, 'v1')
    expect(manifest.layers.map((l) => l.annotations?.['org.opencontainers.image.title'])).toEqual([
      'checksums.txt',
      'tool-darwin-arm64',
      'tool-linux-amd64',
    ])

    const out = path.join(work, 'files-out')
    const pulled = await pull(repository, 'v1', out)
    expect(pulled.code).toBe(0)
    expect(readFileSync(path.join(out, 'tool-linux-amd64'), 'utf8')).toBe('linux binary')
    expect(statSync(path.join(out, 'tool-darwin-arm64')).mode & 0o100).toBe(0o100)
    expect(statSync(path.join(out, 'checksums.txt')).mode & 0o111).toBe(0)
  })

  test('a multi-file pull that fails at one layer leaves the destination as it was', async () => {
    const release = path.join(work, 'atomic', 'release')
    write(path.join(release, 'a.bin'), 'a'.repeat(1000))
    write(path.join(release, 'b.bin'), 'b'.repeat(1000))
    const repository = 'alice/atomic'
    expect((await push(repository, { path: release, format: 'files' })).code).toBe(0)
    const manifest = await manifestOf(repository, 'v1')
    // the second layer's bytes change in storage: its digest check fails mid-pull
    writeFileSync(bed.blobPath(manifest.layers[1]!.digest), 'x'.repeat(1000))

    const out = path.join(work, 'atomic-out')
    write(path.join(out, 'kept.txt'), 'already here')
    const pulled = await pull(repository, 'v1', out)
    expect(pulled.code).not.toBe(0)
    expect(readFileSync(path.join(out, 'kept.txt'), 'utf8')).toBe('already here')
    expect(existsSync(path.join(out, 'a.bin'))).toBe(false)
    expect(readdirSync(work).filter((name) => name.startsWith('atomic-out.partial'))).toEqual([])
  })

  test('if-no-files-found: warn by default, error fails the step', async () => {
    const repository = `${bed.registry}/alice/nothing`
    const warned = await runAction({ inputs: { path: 'missing/*.zip', repository, ...auth() } })
    expect(warned.code).toBe(0)
    expect(warned.annotations).toContainEqual({
      level: 'warning',
      message: 'No files were found with the provided path: missing/*.zip. No artifacts will be uploaded.',
    })
    expect(warned.outputs.digest).toBeUndefined()
    const failed = await runAction({
      inputs: { path: 'missing', 'if-no-files-found': 'error', repository, ...auth() },
    })
    expect(failed.code).not.toBe(0)
    expect(failed.annotations[0]?.message).toContain("Input 'path': No files were found")
  })
})
