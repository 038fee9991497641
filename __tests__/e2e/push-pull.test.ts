import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { sha256Digest } from '../../src/oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG } from '../../src/oci/manifest.js'
import { Repository } from '../../src/oci/repository.js'
import { runAction } from '../helpers/run-action.js'
import { skopeo, startTestbed, type Testbed } from '../testbed/index.js'

let bed: Testbed
let work: string
let alice: string

beforeAll(async () => {
  bed = await startTestbed()
  alice = bed.users.alice as string
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-push-pull-'))
})
afterAll(async () => {
  await bed?.stop()
  rmSync(work, { recursive: true, force: true })
})

/** A tree with what upload-artifact loses: exec bits, symlinks, empty dirs, hidden files. */
function makeTree(dir: string, marker = 'v1'): string {
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  mkdirSync(path.join(dir, 'empty', 'nested'), { recursive: true })
  mkdirSync(path.join(dir, 'ünïcode dir'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), `#!/bin/sh\necho ${marker}\n`)
  chmodSync(path.join(dir, 'bin', 'tool'), 0o755)
  writeFileSync(path.join(dir, '.hidden'), 'hidden\n')
  writeFileSync(path.join(dir, 'zero'), '')
  writeFileSync(path.join(dir, 'ünïcode dir', `${'long-name-'.repeat(12)}.txt`), marker)
  symlinkSync('bin/tool', path.join(dir, 'link-to-tool'))
  symlinkSync('../nowhere', path.join(dir, 'dangling'))
  mkdirSync(path.join(dir, '.git'), { recursive: true })
  writeFileSync(path.join(dir, '.git', 'config'), '[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n')
  return dir
}

function auth(extra: Record<string, string> = {}) {
  return { username: 'alice', token: alice, ...extra }
}

function expectSameTree(a: string, b: string) {
  // hidden files stay out of a push by default (as upload-artifact since v4.4)
  execFileSync('diff', ['-r', '--no-dereference', '--exclude=.git', '--exclude=.hidden', a, b])
  expect(statSync(path.join(b, 'bin', 'tool')).mode & 0o777).toBe(0o755)
  expect(lstatSync(path.join(b, 'link-to-tool')).isSymbolicLink()).toBe(true)
  expect(readlinkSync(path.join(b, 'dangling'))).toBe('../nowhere')
  expect(statSync(path.join(b, 'empty', 'nested')).isDirectory()).toBe(true)
}

describe('push and pull through dist/index.js', () => {
  test('round trip with several tags, then pull by tag and by digest', async () => {
    const src = makeTree(path.join(work, 'rt', 'dist'))
    const repository = `${bed.registry}/alice/round-trip`
    const push = await runAction({
      inputs: { path: src, repository, tag: 'v1.0.0, latest\nedge', ...auth() },
    })
    expect(push.stderr).toBe('')
    expect(push.code).toBe(0)
    expect(push.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/)
    expect(push.outputs.ref).toBe(`${bed.registry}/alice/round-trip@${push.outputs.digest}`)
    expect(push.outputs.tags).toBe('v1.0.0,latest,edge')
    expect(Number(push.outputs.size)).toBeGreaterThan(0)
    expect(push.outputs.url).toBeUndefined()
    expect(push.summary).toContain(push.outputs.digest)

    for (const tag of ['latest', 'edge', push.outputs.digest as string]) {
      const out = path.join(work, 'rt', `out-${tag.slice(0, 12)}`)
      const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag, ...auth() } })
      expect(pull.code).toBe(0)
      expect(pull.outputs).toMatchObject({ digest: push.outputs.digest, path: out })
      expectSameTree(src, out)
      expect(existsSync(path.join(out, '.git'))).toBe(false)
      expect(existsSync(path.join(out, '.hidden'))).toBe(false)
    }
  })

  test('the token never appears in the log, even with debug on', async () => {
    const src = makeTree(path.join(work, 'mask', 'dist'))
    const result = await runAction({
      inputs: { path: src, repository: `${bed.registry}/alice/masked`, ...auth() },
      env: { RUNNER_DEBUG: '1' },
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`::add-mask::${alice}`)
    expect(result.stdout.split(`::add-mask::${alice}`).join('')).not.toContain(alice)
  })

  // A new tag cannot know its layer before compressing it, so the layer streams as it is packed and
  // the registry keeps one blob per digest (push.ts says why this beats packing first).
  test('a second push of the same tree under a new tag gives the same digest', async () => {
    const a = makeTree(path.join(work, 'repro-a', 'dist'))
    const repository = `${bed.registry}/alice/repro`
    const env = { GITHUB_SHA: 'a'.repeat(40), SOURCE_DATE_EPOCH: '1700000000' }
    const first = await runAction({ inputs: { path: a, repository, tag: 'one', ...auth() }, env })
    // Same content created again later, elsewhere: other mtimes, other inode order.
    const b = makeTree(path.join(work, 'repro-b', 'dist'))
    const second = await runAction({ inputs: { path: b, repository, tag: 'two', ...auth() }, env })
    expect(second.code).toBe(0)
    expect(second.outputs.digest).toBe(first.outputs.digest)
    // the config blob is found; the layer went up alongside its pack, not after it
    expect(second.stdout).toMatch(/already in the registry: not uploaded/)
    expect(second.stdout).toMatch(/Uploaded .* while packing/)
    expect(second.stdout).not.toMatch(/Uploading sha256/)
  })

  test('a re-push under a tag that already holds the same tree reuses its layer without packing', async () => {
    const repository = `${bed.registry}/alice/repush`
    const env = { GITHUB_SHA: 'b'.repeat(40), SOURCE_DATE_EPOCH: '1700000000' }
    const first = await runAction({
      inputs: { path: makeTree(path.join(work, 'rp-a', 'dist')), repository, tag: 'latest', ...auth() },
      env,
    })
    const again = await runAction({
      inputs: { path: makeTree(path.join(work, 'rp-b', 'dist')), repository, tag: 'latest', ...auth() },
      env,
    })
    expect(again.code).toBe(0)
    expect(again.outputs.digest).toBe(first.outputs.digest)
    expect(again.stdout).toContain('The tree is unchanged since latest')
    expect(again.stdout).not.toContain('::group::Pack')

    // Changed content under the same tag is packed and pushed anew.
    const changed = makeTree(path.join(work, 'rp-c', 'dist'), 'v2')
    const third = await runAction({ inputs: { path: changed, repository, tag: 'latest', ...auth() }, env })
    expect(third.code).toBe(0)
    expect(third.outputs.digest).not.toBe(first.outputs.digest)
    expect(third.stdout).toContain('holds other content')
    const out = path.join(work, 'rp-out')
    await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'latest', ...auth() } })
    expectSameTree(changed, out)
  })

  test('anonymous pull of a public repository; denied on a private one', async () => {
    const src = makeTree(path.join(work, 'anon', 'dist'))
    await runAction({
      inputs: { path: src, repository: `${bed.registry}/alice/public-tool`, tag: 'v1', ...auth() },
    })
    await runAction({
      inputs: { path: src, repository: `${bed.registry}/alice/private-tool`, tag: 'v1', ...auth() },
    })
    bed.setPublic('alice/public-tool')

    const out = path.join(work, 'anon', 'out')
    const pub = await runAction({
      inputs: {
        mode: 'pull',
        path: out,
        repository: `${bed.registry}/alice/public-tool`,
        tag: 'v1',
        token: '',
      },
    })
    expect(pub.code).toBe(0)
    expectSameTree(src, out)

    const denied = path.join(work, 'anon', 'denied')
    const priv = await runAction({
      inputs: {
        mode: 'pull',
        path: denied,
        repository: `${bed.registry}/alice/private-tool`,
        tag: 'v1',
        token: '',
      },
    })
    expect(priv.code).not.toBe(0)
    expect(priv.stdout).toMatch(/::error::.*(401|403|denied|unauthorized)/i)
    expect(existsSync(denied)).toBe(false)
  })

  test('a denied push says the credentials may not push (on ghcr.io: names packages: write)', async () => {
    const src = makeTree(path.join(work, 'denied-push', 'dist'))
    const result = await runAction({
      inputs: { path: src, repository: `${bed.registry}/bob/not-alices`, ...auth() },
    })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/::error::.*401.*may push to this repository/)
  })

  test('skopeo reads what we push, and GNU tar extracts its layer to the same tree (ORAS layout)', async () => {
    const src = makeTree(path.join(work, 'peer', 'dist'))
    const repository = `${bed.registry}/alice/peer`
    const push = await runAction({ inputs: { path: src, repository, tag: 'v1', ...auth() } })
    expect(push.code).toBe(0)
    const layout = path.join(work, 'peer', 'layout')
    await skopeo(['copy', '--src-creds', `alice:${alice}`, `docker://${repository}:v1`, `oci:${layout}:v1`])
    const index = JSON.parse(readFileSync(path.join(layout, 'index.json'), 'utf8'))
    expect(index.manifests[0].digest).toBe(push.outputs.digest)
    const manifestDigest = (push.outputs.digest as string).replace('sha256:', '')
    const manifest = JSON.parse(readFileSync(path.join(layout, 'blobs', 'sha256', manifestDigest), 'utf8'))
    expect(manifest.artifactType).toBe('application/vnd.oci-artifact-action.directory.v1')
    expect(manifest.config.mediaType).toBe('application/vnd.oci.empty.v1+json')
    const layer = manifest.layers[0]
    expect(layer.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    expect(layer.annotations).toMatchObject({
      'org.opencontainers.image.title': 'dist',
      'io.deis.oras.content.unpack': 'true',
    })
    const layerFile = path.join(layout, 'blobs', 'sha256', layer.digest.replace('sha256:', ''))
    const tarDigest = execFileSync('sh', ['-c', `gzip -dc '${layerFile}' | sha256sum`], { encoding: 'utf8' })
    expect(layer.annotations['io.deis.oras.content.digest']).toBe(`sha256:${tarDigest.split(' ')[0]}`)
    const gnu = path.join(work, 'peer', 'gnu')
    mkdirSync(gnu)
    execFileSync('tar', ['-xzf', layerFile, '-C', gnu])
    expectSameTree(src, path.join(gnu, 'dist'))
  })

  test('pulls a plain tar.gz layer that skopeo published from an OCI layout, as the seed does', async () => {
    const seed = path.join(work, 'seed')
    const content = makeTree(path.join(seed, 'content'))
    const layout = path.join(seed, 'layout')
    mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true })
    const layerTmp = path.join(seed, 'layer.tar.gz')
    execFileSync('sh', ['-c', `tar -C '${content}' --exclude=.git -cf - . | gzip -6 > '${layerTmp}'`])
    const sha = (file: string) =>
      execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0] as string
    const put = (bytes: Buffer | string) => {
      const file = path.join(seed, 'blob')
      writeFileSync(file, bytes)
      const digest = sha(file)
      writeFileSync(path.join(layout, 'blobs', 'sha256', digest), bytes)
      return { digest: `sha256:${digest}`, size: Buffer.byteLength(bytes) }
    }
    const layer = put(readFileSync(layerTmp))
    const config = put(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    )
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    )
    writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
    writeFileSync(
      path.join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            annotations: { 'org.opencontainers.image.ref.name': '1.0.0' },
          },
        ],
      }),
    )
    const repository = `${bed.registry}/alice/anakin`
    await skopeo([
      'copy',
      '--dest-creds',
      `alice:${alice}`,
      `oci:${layout}:1.0.0`,
      `docker://${repository}:1.0.0`,
    ])
    const out = path.join(seed, 'out')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: '1.0.0', ...auth() } })
    expect(pull.code).toBe(0)
    expect(pull.outputs.digest).toBe(manifest.digest)
    expectSameTree(content, out)
  })

  test('a pull merges into an existing folder: replaces what the artifact has, keeps the rest', async () => {
    const src = makeTree(path.join(work, 'merge', 'dist'), 'new')
    const repository = `${bed.registry}/alice/merge`
    await runAction({ inputs: { path: src, repository, tag: 'v1', ...auth() } })
    const out = path.join(work, 'merge', 'out')
    mkdirSync(path.join(out, 'bin'), { recursive: true })
    writeFileSync(path.join(out, 'bin', 'tool'), 'old')
    writeFileSync(path.join(out, 'mine.txt'), 'keep me')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...auth() } })
    expect(pull.code).toBe(0)
    expect(readFileSync(path.join(out, 'bin', 'tool'), 'utf8')).toContain('echo new')
    expect(readFileSync(path.join(out, 'mine.txt'), 'utf8')).toBe('keep me')
  })

  test('a corrupted blob fails the pull and leaves the destination as it was', async () => {
    const src = makeTree(path.join(work, 'corrupt', 'dist'))
    const repository = `${bed.registry}/alice/corrupt`
    const push = await runAction({ inputs: { path: src, repository, tag: 'v1', ...auth() } })
    expect(push.code).toBe(0)
    const manifest = await (async () => {
      const layout = path.join(work, 'corrupt', 'layout')
      await skopeo(['copy', '--src-creds', `alice:${alice}`, `docker://${repository}:v1`, `oci:${layout}:v1`])
      const digest = (push.outputs.digest as string).replace('sha256:', '')
      return JSON.parse(readFileSync(path.join(layout, 'blobs', 'sha256', digest), 'utf8'))
    })()
    const blob = bed.blobPath(manifest.layers[0].digest)
    const bytes = readFileSync(blob)
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 0xff
    writeFileSync(blob, bytes)
    const out = path.join(work, 'corrupt', 'out')
    const pull = await runAction({ inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...auth() } })
    expect(pull.code).not.toBe(0)
    expect(pull.stdout).toMatch(new RegExp(`::error::.*${manifest.layers[0].digest}`))
    expect(existsSync(out)).toBe(false)
    expect(readdirSiblings(path.join(work, 'corrupt'))).toEqual(['dist', 'layout'])
  })
})

function readdirSiblings(dir: string): string[] {
  return execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()
}

describe('bad input is refused before any network work, naming the input', () => {
  const cases: [string, Record<string, string>, RegExp][] = [
    ['mode', { mode: 'upload', path: '.' }, /Input 'mode': 'upload'/],
    [
      'path missing, with if-no-files-found: error',
      { path: 'no/such/dir', 'if-no-files-found': 'error' },
      /Input 'path': No files were found with the provided path: no\/such\/dir/,
    ],
    ['path of exclusions only', { path: '!*.log' }, /Input 'path': '!\*.log' names nothing but exclusions/],
    ['if-no-files-found', { path: '.', 'if-no-files-found': 'fail' }, /Input 'if-no-files-found': 'fail'/],
    ['path empty', { path: '' }, /Input 'path': is required/],
    ['repository', { path: '.', repository: 'a/../b' }, /Input 'repository'/],
    ['tag', { path: '.', tag: 'good,-bad' }, /Input 'tag': '-bad'/],
    ['pull tag', { mode: 'pull', tag: 'sha256:1234' }, /Input 'tag': 'sha256:1234'/],
    ['compression-level', { path: '.', 'compression-level': '11' }, /Input 'compression-level': '11'/],
    ['annotations', { path: '.', annotations: 'no-equals' }, /Input 'annotations': 'no-equals'/],
    ['artifact-type', { path: '.', 'artifact-type': 'nope' }, /Input 'artifact-type': 'nope'/],
    ['format', { path: '.', format: 'zip' }, /Input 'format': 'zip'/],
    ['max-layer-size', { path: '.', 'max-layer-size': '4 gigs' }, /Input 'max-layer-size': '4 gigs'/],
    [
      'max-layer-size too small',
      { path: '.', 'max-layer-size': '1KiB' },
      /Input 'max-layer-size': '1KiB' is below/,
    ],
  ]
  test.each(cases)('%s', async (_name, inputs, message) => {
    const before = bed.tokenRequests.length
    const result = await runAction({
      inputs: { repository: `${bed.registry}/alice/bad`, ...auth(), ...inputs },
      env: { GITHUB_WORKSPACE: work },
    })
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(new RegExp(`::error::${message.source}`))
    expect(bed.tokenRequests.length).toBe(before)
  })
})

describe('pulls what ORAS publishes', () => {
  // Shaped as `oras push REF dist/ notes.txt` writes them (ORAS 1.x): a directory as a tar+gzip
  // layer whose entries sit under `dist/`, with the unpack and digest annotations; a file as a
  // raw layer carrying only its title.
  test('a directory layer and a file layer land under their titles, as oras pull lays them out', async () => {
    const base = path.join(work, 'oras')
    const src = makeTree(path.join(base, 'dist'))
    const tarFile = path.join(base, 'dist.tar')
    execFileSync('tar', ['--sort=name', '--exclude=.git', '-C', base, '-cf', tarFile, 'dist'])
    const tar = readFileSync(tarFile)
    const gz = execFileSync('gzip', ['-9', '-n', '-c', tarFile], { maxBuffer: 1 << 26 })
    const notes = Buffer.from('release notes\n')
    const repo = new Repository({
      registry: bed.registry,
      repository: 'alice/oras-made',
      credentials: { username: 'alice', password: alice },
      actions: ['pull', 'push'],
    })
    const blob = (bytes: Buffer, mediaType: string, annotations: Record<string, string>) => ({
      mediaType,
      digest: sha256Digest(bytes),
      size: bytes.length,
      annotations,
    })
    const dirLayer = blob(gz, 'application/vnd.oci.image.layer.v1.tar+gzip', {
      'io.deis.oras.content.digest': sha256Digest(tar),
      'io.deis.oras.content.unpack': 'true',
      'org.opencontainers.image.title': 'dist',
    })
    const fileLayer = blob(notes, 'application/vnd.oci.image.layer.v1.tar', {
      'org.opencontainers.image.title': 'notes.txt',
    })
    await repo.pushBlob(dirLayer, () => Readable.from([gz]))
    await repo.pushBlob(fileLayer, () => Readable.from([notes]))
    await repo.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
    const manifest = buildManifest({
      artifactType: 'application/vnd.unknown.artifact.v1',
      config: EMPTY_CONFIG,
      layers: [dirLayer, fileLayer],
    })
    await repo.putManifest(manifest.bytes, manifest.mediaType, 'v1')

    const out = path.join(base, 'out')
    const pull = await runAction({
      inputs: {
        mode: 'pull',
        path: out,
        repository: `${bed.registry}/alice/oras-made`,
        tag: 'v1',
        ...auth(),
      },
    })
    expect(pull.code).toBe(0)
    // several layers land as `oras pull` lays them out: each under its title
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('release notes\n')
    expectSameTree(src, path.join(out, 'dist'))
  })
})
