import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SendRequest } from '../../../../src/oci/transport/send.js'
import * as core from '../../../__fixtures__/core.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'
import { networkError } from '../../oci/scripted-send.js'

// The push of a directory, against a registry in a function at the bottom of the real transport:
// its layer goes up while it is packed (POST, one PATCH, PUT ?digest= at the end), and when that
// stream fails it is packed again into a file and sent as an ordinary blob.

interface Seen {
  method: string
  path: string
  query: URLSearchParams
  bytes: number
}

// What the registry does with a PATCH; 'ok' stores the bytes for the commit
let patchAnswer: 'ok' | 'reset' = 'ok'
// awaited before the registry reads a PATCH's body: a slow wire
let beforePatchBody: (() => Promise<void>) | undefined
let seen: Seen[] = []
let memory: MemoryRegistry

async function read(body: Readable | Buffer | undefined): Promise<Buffer> {
  if (!body) return Buffer.alloc(0)
  return Buffer.isBuffer(body) ? body : Buffer.concat(await body.toArray())
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const EMPTY_DIGEST = sha256(Buffer.from('{}'))

// The shared in-memory registry over HTTP, with the faults these tests need on a PATCH.
async function registrySend(req: SendRequest): Promise<Response> {
  const url = new URL(req.url)
  // a connection reset as the PATCH starts: the pack's writes fail with it
  const reset = req.method === 'PATCH' && patchAnswer === 'reset'
  if (req.method === 'PATCH') await beforePatchBody?.()
  const body = reset ? Buffer.alloc(0) : await read(req.body?.())
  seen.push({ method: req.method, path: url.pathname, query: url.searchParams, bytes: body.length })
  if (reset) throw networkError()
  return memory.exchange({ ...req, body: () => body })
}

jest.unstable_mockModule('@actions/core', () => core)
jest.unstable_mockModule('../../../../src/action/runner/network.js', () => ({
  networkOptions: () => ({ exchange: registrySend, plainHttp: false, retry: { sleep: async () => {} } }),
}))

const { pushDirectory } = await import('../../../../src/action/push/push.js')
const { parsePushInputs: parseInputs } = await import('../../../../src/action/push/inputs.js')

const work = mkdtempSync(path.join(os.tmpdir(), 'push-stream-'))
const tree = path.join(work, 'dist')
mkdirSync(path.join(tree, 'bin'), { recursive: true })
writeFileSync(path.join(tree, 'bin', 'tool'), '#!/bin/sh\necho hi\n'.repeat(1000))
writeFileSync(path.join(tree, 'README'), 'a tree to push\n')

const large = path.join(work, 'large')
mkdirSync(large)
for (let i = 0; i < 5; i++) writeFileSync(path.join(large, `${i}.bin`), randomBytes(700 * 1024))

function inputs(tag = 'v1', more: Record<string, string> = {}) {
  const values: Record<string, string> = { path: tree, repository: 'registry.example/o/n', tag, ...more }
  return parseInputs((name) => values[name] ?? '', { GITHUB_WORKSPACE: work })
}

const env = { RUNNER_TEMP: work, SOURCE_DATE_EPOCH: '0' }

beforeEach(() => {
  patchAnswer = 'ok'
  beforePatchBody = undefined
  seen = []
  // the config blob ({}) is there already: what is sent is the layer alone
  memory = new MemoryRegistry()
  memory.blobs.set(EMPTY_DIGEST, Buffer.from('{}'))
  core.resetCore()
})

const layerRequests = () =>
  seen.filter((r) => r.path.includes('/blobs/') && !r.path.endsWith(`/blobs/${EMPTY_DIGEST}`))

describe('a directory push streams its layer into the upload', () => {
  test('the layer goes up in one PATCH while it is packed, committed with its digest at the end', async () => {
    const result = await pushDirectory(inputs(), env)
    const layer = result!.layers![0]!
    expect(layerRequests().map((r) => r.method)).toEqual(['POST', 'PATCH', 'PUT'])
    const [, patch, put] = layerRequests()
    expect(patch!.bytes).toBe(layer.size)
    // the commit carries no body: the digest, known once the last byte was packed, is its query
    expect(put!.bytes).toBe(0)
    expect(put!.query.get('digest')).toBe(layer.digest)
    expect(memory.blobs.get(layer.digest)!.length).toBe(layer.size)
    expect(result!.uploaded).toBe(layer.size)
    expect(core.lines()).toContain('group: Pack and upload')
    expect(core.lines().some((m) => /^Uploaded .* while packing$/.test(m))).toBe(true)
    // ORAS's directory layer, as before
    expect(layer.annotations).toEqual({
      'io.deis.oras.content.digest': expect.stringMatching(/^sha256:/),
      'io.deis.oras.content.unpack': 'true',
      'org.opencontainers.image.title': 'dist',
    })
  })

  test('a stream that breaks is packed again into a file and sent whole, with the same digest', async () => {
    const streamed = await pushDirectory(inputs('first'), env)
    const expected = streamed!.layers![0]!
    memory.blobs.delete(expected.digest)
    seen = []
    patchAnswer = 'reset'
    const result = await pushDirectory(inputs('second'), env)
    const layer = result!.layers![0]!
    expect(layer.digest).toBe(expected.digest)
    const methods = layerRequests().map((r) => r.method)
    // the broken session, dropped; then the file: does the registry have it? no: POST, PUT
    expect(methods).toEqual(['POST', 'PATCH', 'DELETE', 'HEAD', 'POST', 'PUT'])
    const put = layerRequests().at(-1)!
    expect(put.bytes).toBe(layer.size)
    expect(memory.blobs.get(layer.digest)!.length).toBe(layer.size)
    expect(core.lines().some((m) => /into the upload failed .*writing it again, into a file/.test(m))).toBe(
      true,
    )
    expect(result!.uploaded).toBe(layer.size)
  })

  test('what the wire has not taken yet waits in RUNNER_TEMP, not in memory, so the pack runs ahead', async () => {
    const big = path.join(work, 'big')
    mkdirSync(big)
    // incompressible: packed as fast as it is read, far more than the upload's 4 MiB of memory
    for (let i = 0; i < 4; i++) writeFileSync(path.join(big, `${i}.bin`), randomBytes(4 * 1024 * 1024))
    let waiting: string[] = []
    // the registry takes nothing until the pack has spilled, or 5 s went by
    beforePatchBody = async () => {
      for (let tries = 0; tries < 100 && waiting.length === 0; tries++) {
        await sleep(50)
        waiting = readdirSync(work, { recursive: true, encoding: 'utf8' }).filter((f) => /segment-/.test(f))
      }
    }
    const result = await pushDirectory(inputs('v1', { path: big }), env)
    expect(waiting.length).toBeGreaterThan(0)
    const layer = result!.layers![0]!
    expect(memory.blobs.get(layer.digest)!.length).toBe(layer.size)
    expect(layerRequests().map((r) => r.method)).toEqual(['POST', 'PATCH', 'PUT'])
    // and nothing is left of it
    expect(readdirSync(work).filter((f) => f.startsWith('oci-artifact-'))).toEqual([])
  })

  test('an unchanged tree pushed to the same tag sends no layer at all', async () => {
    await pushDirectory(inputs(), env)
    seen = []
    core.resetCore()
    const again = await pushDirectory(inputs(), env)
    expect(layerRequests().filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([])
    expect(again!.uploaded).toBe(0)
    expect(core.lines()).not.toContain('group: Pack and upload')
  })
})

describe('a tree above max-layer-size', () => {
  test('each part streams into its own upload, committed with its own digest; the manifest lists them in order', async () => {
    const result = await pushDirectory(inputs('v1', { path: large, 'max-layer-size': '1MiB' }), env)
    const layers = result!.layers!
    expect(layers.map((l) => l.annotations!['org.opencontainers.image.title'])).toEqual(
      [1, 2, 3, 4, 5].map((i) => `large.part-${i}-of-5`),
    )
    const commits = layerRequests().filter((r) => r.method === 'PUT')
    expect(commits.map((r) => r.query.get('digest')).sort()).toEqual(layers.map((l) => l.digest).sort())
    expect(commits.every((r) => r.bytes === 0)).toBe(true)
    expect(layerRequests().filter((r) => r.method === 'PATCH')).toHaveLength(5)
    for (const layer of layers) expect(memory.blobs.get(layer.digest)!.length).toBe(layer.size)
    expect(result!.uploaded).toBe(layers.reduce((sum, l) => sum + l.size, 0))
  })
})
