import { PassThrough, type Writable } from 'node:stream'
import type { Descriptor } from '../descriptor.js'
import { checkResponse } from '../errors.js'
import { discardBody } from '../response-body.js'
import { SpillBuffer } from './spill-buffer.js'
import { cancelUpload, commitBlob, nextLocation, openSession, type UploadSessionContext } from './session.js'

export interface StreamedUpload {
  /** Where the blob's bytes go, in order; end it after the last one. */
  readonly body: Writable
  /**
   * Once `body` has ended: commits what was sent as the blob `desc`. Rejects when the PATCH or
   * the PUT failed, or the registry found other bytes than `desc` says; nothing is retried, since
   * the bytes are gone: the caller sends them again another way (from the file it also wrote).
   */
  finish(desc: Pick<Descriptor, 'digest' | 'size'>): Promise<void>
  /** Gives up: stops the PATCH and asks the registry to drop the session; nothing once committed. */
  abort(reason: Error): Promise<void>
}

// Bytes waiting for the socket in memory: enough to ride out a slow moment of the registry, and the
// bound on what a fast producer holds in memory.
const BUFFERED = 4 * 1024 * 1024
// How far ahead of the upload a producer may run on disk (with `spillDir`): a compressible stretch
// of a tree packs while the wire still carries an incompressible one (BENCHMARKS.md, "On a shaped
// link"); 1 GiB of a runner's temporary disk at most, and only while the wire is behind.
const SPILLED = 1024 * 1024 * 1024

export interface StreamedUploadOptions {
  // a folder the caller owns: bytes the socket cannot take yet wait there, past BUFFERED in memory
  spillDir?: string
}

/**
 * streamBlob: an upload whose digest is known only after its last byte. A session, one PATCH that
 * streams the body as it is produced (chunked transfer encoding, no Content-Range), then the
 * commit, a PUT ?digest= with no body. This is how docker and skopeo push layers, and ghcr.io
 * takes it in one request; what ghcr.io refuses above 4 MiB is the Content-Range kind of PATCH,
 * which this is not. It lets a pack and its upload run at the same time, not one after the other.
 */
export async function startStreamedUpload(
  ctx: UploadSessionContext,
  o: StreamedUploadOptions = {},
): Promise<StreamedUpload> {
  const session = await openSession(ctx)
  const body = o.spillDir
    ? new SpillBuffer({ dir: o.spillDir, memory: BUFFERED, disk: SPILLED })
    : new PassThrough({ highWaterMark: BUFFERED })
  let opened = false
  let committed = false
  const patched = ctx
    .send({
      method: 'PATCH',
      url: session.toString(),
      headers: { 'content-type': 'application/octet-stream' },
      // the bytes can be sent once: a layer that wants to send them again (an auth replay, a
      // redirect) gets an error, and the caller falls back to its copy
      body: () => {
        if (opened) throw new Error('a streamed upload cannot be sent twice')
        opened = true
        return body
      },
      retry: false,
    })
    .then((res) => checkResponse(res, 202))
  // the PATCH may fail while the producer is still writing: the writes must fail too, not block
  patched.catch((error: unknown) => body.destroy(error as Error))

  return {
    body,
    async finish(desc) {
      const res = await patched
      await discardBody(res)
      await commitBlob(ctx, nextLocation(res, session), desc.digest)
      committed = true
    },
    async abort(reason) {
      if (committed) return
      body.destroy(reason)
      await patched.catch(() => undefined)
      await cancelUpload(ctx, session)
    },
  }
}
