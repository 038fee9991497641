import { describe, expect, it } from '@jest/globals'
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { gzipSync } from 'node:zlib'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar } from './hostile-tar.js'
import { tempDir } from './tree.js'

// Delivers the first half of the layer, notes the inode of the staging folder that extraction
// made next to dest, then delivers the rest.
function observedSource(layer: Buffer, parent: string, seen: { staging?: number }): Readable {
  let step = 0
  return new Readable({
    read() {
      if (step === 0) this.push(layer.subarray(0, layer.length / 2))
      else if (step === 1) {
        const staging = readdirSync(parent).find((name) => name.includes('.partial-'))
        if (staging) seen.staging = statSync(path.join(parent, staging)).ino
        this.push(layer.subarray(layer.length / 2))
      } else this.push(null)
      step++
    },
  })
}

describe('a destination that does not exist yet', () => {
  it('is the staging folder itself, renamed into place: nothing is copied or merged', async () => {
    const layer = gzipSync(
      rawTar([
        { path: 'a/', type: 'Directory' },
        { path: 'a/one.txt', body: 'x'.repeat(300000) },
        { path: 'two.txt', body: 'y'.repeat(300000) },
      ]),
      { level: 0 },
    )
    const parent = tempDir()
    const dest = path.join(parent, 'dest')
    const seen: { staging?: number } = {}
    await extractToDirectory(observedSource(layer, parent, seen), dest, { compression: 'gzip' })
    expect(seen.staging).toBeDefined()
    expect(statSync(dest).ino).toBe(seen.staging)
    expect(readdirSync(parent)).toEqual(['dest'])
  })
})
