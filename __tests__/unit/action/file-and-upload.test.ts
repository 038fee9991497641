import { describe, expect, it } from '@jest/globals'
import { PassThrough, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { FileAndUpload } from '../../../src/action/file-and-upload.js'

function collector(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // a copy, as a file or socket would keep: the producer may reuse its buffer afterwards
      parts.push(Buffer.from(chunk))
      setImmediate(callback)
    },
  })
  return { stream, bytes: () => Buffer.concat(parts) }
}

const pieces = Array.from({ length: 20 }, (_, i) => Buffer.alloc(64 * 1024, i))

describe('FileAndUpload', () => {
  it('gives every byte to both, in order', async () => {
    const file = collector()
    const upload = new PassThrough()
    const uploaded = collector()
    const drained = pipeline(upload, uploaded.stream)
    const failures: Error[] = []
    const out = new FileAndUpload(file.stream, upload, (error) => failures.push(error))
    await pipeline(Readable.from(pieces), out)
    await drained
    expect(file.bytes().equals(Buffer.concat(pieces))).toBe(true)
    expect(uploaded.bytes().equals(Buffer.concat(pieces))).toBe(true)
    expect(out.uploading).toBe(true)
    expect(failures).toEqual([])
  })

  it('drops an upload that fails and goes on with the file alone', async () => {
    const file = collector()
    let taken = 0
    const upload = new Writable({
      write(_chunk, _encoding, callback) {
        callback(++taken === 5 ? new Error('connection reset') : null)
      },
    })
    const failures: Error[] = []
    const out = new FileAndUpload(file.stream, upload, (error) => failures.push(error))
    await pipeline(Readable.from(pieces), out)
    expect(file.bytes().equals(Buffer.concat(pieces))).toBe(true)
    expect(out.uploading).toBe(false)
    expect(failures.map((error) => error.message)).toEqual(['connection reset'])
  })

  it('fails when the file fails', async () => {
    const file = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('disk full')) })
    const out = new FileAndUpload(file, new PassThrough(), () => undefined)
    await expect(pipeline(Readable.from(pieces), out)).rejects.toThrow('disk full')
  })
})
