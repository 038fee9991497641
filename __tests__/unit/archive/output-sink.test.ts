import { describe, expect, it } from '@jest/globals'
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { OutputSink } from '../../../src/archive/output-sink.js'
import { packDirectory } from '../../../src/archive/pack.js'
import { SpillBuffer } from '../../../src/oci/upload/spill-buffer.js'
import { tempDir } from './tree.js'

// A PassThrough (the streamed upload's body) calls a write back as soon as the bytes are queued
// for its reader, not once they are read. The pack must not take such a buffer back for reuse.
describe('packing into a stream that passes the bytes on', () => {
  it('sends the bytes it hashed, however slowly they are read (gzip, stored blocks)', async () => {
    const source = tempDir()
    // incompressible, so gzip stores its chunks in pooled buffers that it recycles
    writeFileSync(path.join(source, 'random.bin'), randomBytes(12 * 1024 * 1024))
    const out = new PassThrough()
    const received = createHash('sha256')
    // like a socket's write queue: the reader holds a few pieces before their bytes go out
    const held: Buffer[] = []
    const reading = (async () => {
      for await (const chunk of out) {
        held.push(chunk as Buffer)
        if (held.length > 4) received.update(held.shift() as Buffer)
        await sleep(2)
      }
      for (const chunk of held) received.update(chunk)
    })()
    const packed = await packDirectory(source, out, { compression: 'gzip' })
    await reading
    expect(`sha256:${received.digest('hex')}`).toBe(packed.digest)
  })
})

// The streamed upload's spill buffer copies what it keeps in memory and writes the rest to files,
// so the pack recycles its buffers there: the bytes sent must still be the bytes hashed.
describe('packing into the spill buffer, which lets the pack recycle its buffers', () => {
  it('sends the bytes it hashed, to a slow reader, through memory and files', async () => {
    const source = tempDir()
    writeFileSync(path.join(source, 'random.bin'), randomBytes(12 * 1024 * 1024))
    const out = new SpillBuffer({ dir: tempDir(), memory: 256 * 1024, disk: 64 * 1024 * 1024 })
    const received = createHash('sha256')
    const reading = (async () => {
      for await (const chunk of out) {
        received.update(chunk as Buffer)
        await sleep(2)
      }
    })()
    const packed = await packDirectory(source, out, { compression: 'gzip' })
    await reading
    expect(`sha256:${received.digest('hex')}`).toBe(packed.digest)
  })
})

describe('OutputSink', () => {
  it('hands a buffer back once a file has written it', async () => {
    const file = path.join(tempDir(), 'out')
    const sink = new OutputSink(createWriteStream(file))
    let handedBack = 0
    await sink.write(Buffer.from('abc'), () => handedBack++)
    await sink.end()
    expect(handedBack).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe('abc')
  })

  it('never hands a buffer back from a stream that passes it on', async () => {
    const out = new PassThrough()
    out.resume()
    const sink = new OutputSink(out)
    let handedBack = 0
    await sink.write(Buffer.from('abc'), () => handedBack++)
    await sink.end()
    expect(handedBack).toBe(0)
  })

  it('ends once the stream has taken every byte, before anyone reads them', async () => {
    const out = new PassThrough({ highWaterMark: 1024 * 1024 })
    const sink = new OutputSink(out)
    await sink.write(Buffer.from('abc'))
    const { size } = await sink.end()
    expect(size).toBe(3)
    expect((out.read() as Buffer).toString()).toBe('abc')
  })

  it('hands a buffer back from a stream that says it copies what it is given', async () => {
    const out = new SpillBuffer({ dir: tempDir(), memory: 1024, disk: 1024 })
    out.resume()
    const sink = new OutputSink(out)
    let handedBack = 0
    await sink.write(Buffer.from('abc'), () => handedBack++)
    await sink.end()
    expect(handedBack).toBe(1)
  })
})
