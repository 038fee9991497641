import { describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import { buffer } from 'node:stream/consumers'
import { verifiedBlobStream } from '../../../src/oci/blob-reader.js'
import { descriptorOf } from '../../../src/oci/descriptor.js'
import { DigestMismatchError, RegistryError } from '../../../src/oci/errors.js'
import { silentLogger } from '../../../src/oci/logger.js'
import { retryPolicy } from '../../../src/oci/transport/retry.js'
import { answer, networkError } from './scripted-send.js'

const data = randomBytes(100_000)
const desc = descriptorOf(data, 'application/octet-stream')
const policy = retryPolicy({ attempts: 3, sleep: async () => {} })

// A body that gives `bytes` and then breaks the way a dropped connection does.
function breakingBody(bytes: Buffer): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes))
    },
    pull(controller) {
      controller.error(networkError('UND_ERR_SOCKET').cause)
    },
  })
  return new Response(stream, { status: 200 })
}

const ok = (bytes: Buffer, status = 200, headers: Record<string, string> = {}) =>
  new Response(new Uint8Array(bytes), { status, headers })

describe('verifiedBlobStream', () => {
  test('passes the bytes through and reports progress', async () => {
    let progress = 0
    const stream = verifiedBlobStream(desc, ok(data), {
      policy,
      logger: silentLogger,
      reopen: async () => ok(data),
      onProgress: (n) => (progress += n),
    })
    expect((await buffer(stream)).equals(data)).toBe(true)
    expect(progress).toBe(data.length)
  })

  test('other bytes error the stream with a DigestMismatchError naming the digest', async () => {
    const other = Buffer.from(data)
    other[7] = other[7]! ^ 1
    const error = await buffer(
      verifiedBlobStream(desc, ok(other), { policy, logger: silentLogger, reopen: async () => ok(data) }),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect((error as Error).message).toContain(desc.digest)
  })

  test('too many bytes error the stream before they are all read', async () => {
    const error = await buffer(
      verifiedBlobStream(desc, ok(Buffer.concat([data, data])), {
        policy,
        logger: silentLogger,
        reopen: async () => ok(data),
      }),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect((error as Error).message).toMatch(/more than 100000 bytes/)
  })

  test('too few bytes are a mismatch too', async () => {
    const error = await buffer(
      verifiedBlobStream(desc, ok(data.subarray(0, 10)), {
        policy,
        logger: silentLogger,
        reopen: async () => ok(data),
      }),
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DigestMismatchError)
  })

  test('resumes a dropped download with a Range request from the byte it stopped at', async () => {
    const offsets: number[] = []
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 30_000)), {
      policy,
      logger: silentLogger,
      reopen: async (offset) => {
        offsets.push(offset)
        return ok(data.subarray(offset), 206, {
          'content-range': `bytes ${offset}-${data.length - 1}/${data.length}`,
        })
      },
    })
    expect((await buffer(stream)).equals(data)).toBe(true)
    expect(offsets).toEqual([30_000])
  })

  test('a server that ignores the Range and sends it all is skipped forward', async () => {
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 30_000)), {
      policy,
      logger: silentLogger,
      reopen: async () => ok(data),
    })
    expect((await buffer(stream)).equals(data)).toBe(true)
  })

  test('a 206 for the wrong range is refused', async () => {
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 30_000)), {
      policy,
      logger: silentLogger,
      reopen: async () => ok(data, 206, { 'content-range': `bytes 0-99999/100000` }),
    })
    await expect(buffer(stream)).rejects.toThrow(/asked for bytes from 30000/)
  })

  test('a resume the transport could not get through ends the download with its error', async () => {
    let reopened = 0
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 10)), {
      policy,
      logger: silentLogger,
      reopen: async () => {
        reopened++
        return answer(503)
      },
    })
    const error = await buffer(stream).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as RegistryError).status).toBe(503)
    expect(reopened).toBe(1)
  })

  test('gives up after as many broken bodies in a row without progress as the policy has attempts', async () => {
    const offsets: number[] = []
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 10)), {
      policy,
      logger: silentLogger,
      reopen: async (offset) => {
        offsets.push(offset)
        return breakingBody(Buffer.alloc(0))
      },
    })
    await expect(buffer(stream)).rejects.toThrow(/socket UND_ERR_SOCKET/)
    // three attempts: the first body and two resumes that brought nothing
    expect(offsets).toEqual([10, 10])
  })

  test('keeps resuming while each body brings more bytes', async () => {
    const offsets: number[] = []
    const stream = verifiedBlobStream(desc, breakingBody(data.subarray(0, 10_000)), {
      policy,
      logger: silentLogger,
      reopen: async (offset) => {
        offsets.push(offset)
        const rest = data.subarray(offset)
        const headers = { 'content-range': `bytes ${offset}-${data.length - 1}/${data.length}` }
        if (rest.length <= 10_000) return ok(rest, 206, headers)
        const res = breakingBody(rest.subarray(0, 10_000))
        return new Response(res.body, { status: 206, headers })
      },
    })
    expect((await buffer(stream)).equals(data)).toBe(true)
    expect(offsets).toHaveLength(9)
  })

  test('a body that breaks after its last byte is complete', async () => {
    let reopened = 0
    const stream = verifiedBlobStream(desc, breakingBody(data), {
      policy,
      logger: silentLogger,
      reopen: async () => {
        reopened++
        return answer(416)
      },
    })
    expect((await buffer(stream)).equals(data)).toBe(true)
    expect(reopened).toBe(0)
  })
})
