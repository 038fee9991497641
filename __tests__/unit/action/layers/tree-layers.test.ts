import { describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { PackResult } from '../../../../src/archive/types.js'
import * as core from '../../../__fixtures__/core.js'

jest.unstable_mockModule('@actions/core', () => core)
const { oneAtATime, uploadTreeLayers } = await import('../../../../src/action/layers/tree-layers.js')
type TreePart = import('../../../../src/action/layers/tree-layers.js').TreePart

describe("a split push's packs", () => {
  it('take turns: the next starts when the last has ended, failed or not', async () => {
    const turns = oneAtATime()
    const events: string[] = []
    const work = (name: string, fail = false) =>
      turns(async () => {
        events.push(`${name} starts`)
        await sleep(20)
        events.push(`${name} ends`)
        if (fail) throw new Error(`${name} failed`)
        return name
      })
    const results = await Promise.allSettled([work('a'), work('b', true), work('c')])
    expect(events).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends'])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })
})

// A registry that takes streamed uploads as they come, each commit held until the test lets it go.
class SlowRegistry {
  readonly blobs = new Set<string>()
  inFlight = 0
  mostInFlight = 0
  private releases: (() => void)[] = []

  async blobExists(digest: string) {
    return this.blobs.has(digest)
  }
  async pushBlob(desc: { digest: string }) {
    this.blobs.add(desc.digest)
  }
  async startStreamedUpload() {
    this.inFlight++
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight)
    const body = new Writable({ write: (_chunk, _encoding, callback) => callback() })
    return {
      body,
      finish: async (desc: { digest: string }) => {
        await new Promise<void>((resolve) => this.releases.push(resolve))
        this.inFlight--
        this.blobs.add(desc.digest)
      },
      abort: async () => {},
    }
  }
  /** Commits the upload that reached its end `index`-th among those waiting. */
  release(index: number) {
    this.releases.splice(index, 1)[0]?.()
  }
  get waiting() {
    return this.releases.length
  }
}

function part(name: string, events: string[]): TreePart {
  const digest = `sha256:${name.repeat(64).slice(0, 64)}`
  return {
    label: `layer ${name}`,
    name,
    pack: async (out) => {
      events.push(`pack ${name}`)
      out.end(Buffer.from(name))
      return { digest, size: 1, files: 1, uncompressedSize: 10 } as PackResult
    },
    layer: (packed) => ({ mediaType: 'application/x.test', digest: packed.digest, size: packed.size }),
  }
}

describe('uploadTreeLayers', () => {
  it('keeps two parts in flight and lists the layers in the parts’ order, whatever order they end in', async () => {
    const registry = new SlowRegistry()
    const events: string[] = []
    const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'tree-layers-'))
    const uploading = uploadTreeLayers(
      registry as never,
      ['a', 'b', 'c'].map((n) => part(n, events)),
      {
        stream: true,
        spoolDir,
      },
    )
    // a and b packed (in either order) and waiting for their commits; c has not started
    while (registry.waiting < 2) await sleep(5)
    expect([...events].sort()).toEqual(['pack a', 'pack b'])
    registry.release(1) // the later of the two ends first
    while (registry.waiting < 2) await sleep(5)
    expect(events.slice(2)).toEqual(['pack c'])
    registry.release(1)
    registry.release(0)
    const result = await uploading
    expect(result.layers.map((l) => l.digest[7])).toEqual(['a', 'b', 'c'])
    expect(registry.mostInFlight).toBe(2)
    expect(result).toMatchObject({ uploaded: 3, files: 3, uncompressedSize: 30 })
  })

  it('a part the registry has is not sent again when packed into a file first', async () => {
    const registry = new SlowRegistry()
    const events: string[] = []
    const parts = ['a', 'b'].map((n) => part(n, events))
    registry.blobs.add(`sha256:${'a'.repeat(64)}`)
    const spoolDir = mkdtempSync(path.join(os.tmpdir(), 'tree-layers-'))
    const result = await uploadTreeLayers(registry as never, parts, { stream: false, spoolDir })
    expect(result.uploaded).toBe(1)
    expect(registry.mostInFlight).toBe(0)
  })
})
