import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { packDirectoryToFile } from '../../../../src/archive/pack.js'
import { Annotation } from '../../../../src/oci/annotations.js'
import type { Descriptor } from '../../../../src/oci/descriptor.js'
import { buildManifest, EMPTY_CONFIG } from '../../../../src/oci/manifest.js'
import { MediaType } from '../../../../src/oci/media-types.js'
import * as core from '../../../__fixtures__/core.js'
import { sha256Digest as sha256 } from '../../../../src/oci/descriptor.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'

// A pull against an in-memory registry: what lands where, and the outputs the mode sets.

let registry: MemoryRegistry
jest.unstable_mockModule('@actions/core', () => core)
const actualRegistry = await import('../../../../src/action/runner/registry.js')
jest.unstable_mockModule('../../../../src/action/runner/registry.js', () => ({
  ...actualRegistry,
  openForPull: () => registry,
}))
const { runPull } = await import('../../../../src/action/pull/pull.js')

const work = mkdtempSync(path.join(os.tmpdir(), 'pull-'))

beforeEach(() => {
  core.resetCore()
  registry = new MemoryRegistry()
  Object.assign(core.inputs, { repository: 'registry.example/o/n', tag: 'v1' })
})

async function putBlob(bytes: Buffer, mediaType: string, annotations: Record<string, string>) {
  const desc: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length, annotations }
  await registry.pushBlob(desc, () => Readable.from([bytes]))
  return desc
}

async function publish(layers: Descriptor[], tag = 'v1') {
  await registry.pushBlob(EMPTY_CONFIG, () => Readable.from([Buffer.from('{}')]))
  const manifest = buildManifest({ artifactType: 'application/x.test', config: EMPTY_CONFIG, layers })
  await registry.putManifest(manifest.bytes, manifest.mediaType, tag)
  return manifest.digest
}

async function directoryLayer(files: Record<string, string>) {
  const dir = path.join(mkdtempSync(path.join(work, 'src-')), 'dist')
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  const file = path.join(work, `${path.basename(path.dirname(dir))}.tgz`)
  const packed = await packDirectoryToFile(dir, file, { compression: 'gzip', prefix: 'dist' })
  return putBlob(await readFile(file), MediaType.LayerTarGzip, {
    [Annotation.Title]: 'dist',
    [Annotation.OrasUnpack]: 'true',
    [Annotation.OrasContentDigest]: packed.uncompressedDigest as string,
  })
}

describe('mode: pull', () => {
  test("a directory layer's contents land in path, and the outputs name the digest and path", async () => {
    const digest = await publish([await directoryLayer({ 'bin/tool': 'run me\n', README: 'hi\n' })])
    const dest = path.join(work, 'out-dir')
    core.inputs.path = dest
    await runPull()
    expect(readFileSync(path.join(dest, 'bin', 'tool'), 'utf8')).toBe('run me\n')
    expect(readFileSync(path.join(dest, 'README'), 'utf8')).toBe('hi\n')
    expect(core.outputs).toEqual({
      digest,
      path: dest,
      pulled: JSON.stringify([{ tag: 'v1', digest, path: dest }]),
    })
    expect(core.messages('info')).toContain(`Pulled registry.example/o/n:v1 (${digest}) into ${dest}`)
  })

  test('file layers are saved under their titles with the mode the push recorded', async () => {
    const tool = await putBlob(Buffer.from('#!/bin/sh\n'), MediaType.LayerTar, {
      [Annotation.Title]: 'tool',
      'io.github.oci-artifact-action.file.mode': '0755',
    })
    const notes = await putBlob(Buffer.from('notes\n'), MediaType.LayerTar, {
      [Annotation.Title]: 'notes.txt',
    })
    await publish([tool, notes])
    const dest = path.join(work, 'out-files')
    core.inputs.path = dest
    await runPull()
    expect(readFileSync(path.join(dest, 'notes.txt'), 'utf8')).toBe('notes\n')
    expect(statSync(path.join(dest, 'tool')).mode & 0o100).toBe(0o100)
    expect(statSync(path.join(dest, 'notes.txt')).mode & 0o100).toBe(0)
  })

  test('a layer that is neither a tar nor titled is refused, and path is not created', async () => {
    await publish([await putBlob(Buffer.from('?'), 'application/x.unknown', {})])
    const dest = path.join(work, 'out-refused')
    core.inputs.path = dest
    await expect(runPull()).rejects.toThrow(/neither a tar layer nor titled/)
    expect(() => statSync(dest)).toThrow()
  })

  test('format: oci-layout writes the artifact into an OCI image layout at path', async () => {
    const digest = await publish([await directoryLayer({ a: 'a\n' })])
    const dest = path.join(work, 'out-layout')
    Object.assign(core.inputs, { path: dest, format: 'oci-layout' })
    await runPull()
    const index = JSON.parse(readFileSync(path.join(dest, 'index.json'), 'utf8'))
    expect(index.manifests.map((m: Descriptor) => m.digest)).toEqual([digest])
    expect(core.outputs.digest).toBe(digest)
    // the layout is a layout others read: its blobs are there by digest
    expect(statSync(path.join(dest, 'blobs', 'sha256', digest.slice(7))).isFile()).toBe(true)
  })
})
