import type { Readable } from 'node:stream'
import { checkResponse } from '../errors.js'
import { redactUrl } from '../redact.js'
import { discardBody } from '../response-body.js'
import type { Send } from '../transport/send.js'

// The steps every blob upload shares, as go-containerregistry's remote/write.go has them
// (initiateUpload, nextLocation, commitBlob): the ways to send the bytes differ, not these.

export interface UploadSessionContext {
  send: Send
  // https://host/v2/<name>/blobs/uploads/
  uploadsUrl: string
}

export type Initiated = { mounted: true } | { mounted: false; location: URL }

/**
 * POST for an upload session. With `mount`, asks the registry to link the blob from another
 * repository first: 201 means it did; 202 means it opened an ordinary session instead, which
 * the caller continues (as oras-go's completePushAfterInitialPost) rather than deleting it.
 */
export async function initiateUpload(
  ctx: UploadSessionContext,
  o: { mount?: { digest: string; from: string }; retry?: boolean } = {},
): Promise<Initiated> {
  const url = new URL(ctx.uploadsUrl)
  if (o.mount) {
    url.searchParams.set('mount', o.mount.digest)
    url.searchParams.set('from', o.mount.from)
  }
  const res = await ctx.send({
    method: 'POST',
    url: url.toString(),
    headers: { 'content-length': '0' },
    scopes: o.mount ? [`repository:${o.mount.from}:pull`] : undefined,
    retry: o.retry,
  })
  await checkResponse(res, ...(o.mount ? [201, 202] : [202]))
  await discardBody(res)
  if (res.status === 201) return { mounted: true }
  return { mounted: false, location: nextLocation(res, url, true) }
}

export async function openSession(ctx: UploadSessionContext): Promise<URL> {
  const started = await initiateUpload(ctx)
  if (started.mounted) throw new Error('a registry answered a plain upload POST with a mount')
  return started.location
}

// Where the session goes on: the Location of the last answer, relative to the URL it answered.
// A PATCH may leave it out (the session URL did not change); a POST must not.
export function nextLocation(res: Response, current: URL, required = false): URL {
  const location = res.headers.get('location')
  if (!location) {
    if (required) throw new Error(`POST ${redactUrl(current)}: 202 without a Location for the upload`)
    return current
  }
  return new URL(location, current)
}

/**
 * PUT ?digest= ends the session: with the whole blob as its body (a monolithic upload), or with
 * none after the bytes went up in a PATCH. `retry: false`: a failed PUT has spent its session,
 * and the caller starts over, from a new one.
 */
export async function commitBlob(
  ctx: UploadSessionContext,
  location: URL,
  digest: string,
  body?: { size: number; open: () => Readable },
): Promise<void> {
  const target = new URL(location)
  target.searchParams.set('digest', digest)
  const res = await ctx.send({
    method: 'PUT',
    url: target.toString(),
    headers: body
      ? { 'content-type': 'application/octet-stream', 'content-length': String(body.size) }
      : { 'content-length': '0' },
    body: body?.open,
    retry: false,
  })
  await checkResponse(res, 201, 204)
  await discardBody(res)
}

// Best effort: a session left open expires on the registry's own schedule anyway.
export async function cancelUpload(ctx: UploadSessionContext, location: URL): Promise<void> {
  const res = await ctx
    .send({ method: 'DELETE', url: location.toString(), headers: {} })
    .catch(() => undefined)
  if (res) await discardBody(res)
}
