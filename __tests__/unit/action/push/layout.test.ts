import { beforeEach, describe, expect, jest, test } from '@jest/globals'
import * as core from '../../../__fixtures__/core.js'
import { LayoutBuilder } from '../../layout/layout-fixture.js'
import { MemoryRegistry } from '../../../helpers/memory-registry.js'

// A push of a folder that is an OCI image layout: published as it is, against an in-memory registry.

let registry: MemoryRegistry
jest.unstable_mockModule('@actions/core', () => core)
const actualRegistry = await import('../../../../src/action/runner/registry.js')
jest.unstable_mockModule('../../../../src/action/runner/registry.js', () => ({
  ...actualRegistry,
  openForPush: () => registry,
}))
const { runPush } = await import('../../../../src/action/push/push.js')

beforeEach(() => {
  core.resetCore()
  registry = new MemoryRegistry()
})

async function layout(name?: string) {
  const builder = await LayoutBuilder.create()
  const image = await builder.image(['layer one', 'layer two'])
  await builder.writeIndex([{ descriptor: image, name }])
  return { dir: builder.dir, image }
}

describe('mode: push of an OCI image layout', () => {
  test('format: auto publishes a layout byte for byte under its ref name, and sets the outputs', async () => {
    const { dir, image } = await layout('v3')
    Object.assign(core.inputs, { path: dir, repository: 'registry.example/o/n' })
    await runPush()
    expect((await registry.getManifest('v3')).digest).toBe(image.digest)
    expect(core.outputs).toMatchObject({
      digest: image.digest,
      ref: `registry.example/o/n@${image.digest}`,
      tags: 'v3',
    })
    expect(core.messages('info')).toMatch(/is an OCI image layout: publishing 1 manifest\(s\) as they are/)
  })

  test('a second push sends no blob again: the registry has them, and the log says so', async () => {
    const { dir } = await layout('v3')
    Object.assign(core.inputs, { path: dir, repository: 'registry.example/o/n' })
    await runPush()
    core.resetCore()
    Object.assign(core.inputs, { path: dir, repository: 'registry.example/o/n', tag: 'again' })
    await runPush()
    expect(core.messages('info')).toMatch(/0 blob\(s\) to upload \(0 bytes\), 3 already there/)
    expect(core.messages('info').match(/already in the registry: not uploaded/g)).toHaveLength(3)
  })

  test.each([
    [{ platform: 'linux/amd64' }, 'platform'],
    [{ overwrite: 'false' }, 'overwrite'],
  ])('%j is refused for a layout, naming the input', async (extra, input) => {
    const { dir } = await layout('v3')
    Object.assign(core.inputs, { path: dir, repository: 'registry.example/o/n', ...extra })
    await expect(runPush()).rejects.toThrow(new RegExp(`^Input '${input}'`))
  })
})
