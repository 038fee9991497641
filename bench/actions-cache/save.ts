/**
 * actions/cache's save, run with its own code where it can be: @actions/cache's `createTar` packs
 * GITHUB_WORKSPACE with tar and `zstdmt` into a file, as the action does. Its upload goes to Azure
 * with the Azure SDK, which cannot talk to a registry; here the file goes up with
 * @actions/http-client, the HTTP client the rest of @actions/cache uses, as one streamed blob
 * upload (POST, PATCH with the file, PUT with the digest hashed on the way).
 *
 * Bundled by scripts/bench.sh with ncc, as actions/cache ships, and run by the Node 24 of the
 * benchmark. Environment: BENCH_TARGET (a RegistryTarget as JSON), BENCH_WORK (an empty folder
 * for the archive), GITHUB_WORKSPACE (the tree). Prints the blob's digest and size as JSON.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { HttpClient } from '@actions/http-client'
// The package's exports map lists only its entry point; these are the functions that entry calls.
import {
  getCacheFileName,
  getCompressionMethod,
} from '../../node_modules/@actions/cache/lib/internal/cacheUtils.js'
import { createTar } from '../../node_modules/@actions/cache/lib/internal/tar.js'
import { authorizationFor, registryUrl } from '../registry-token.js'
import { benchTarget, required } from './step-environment.js'

const target = benchTarget()
const work = required('BENCH_WORK')
// where @actions/cache's tar works; it reads the variable itself
required('GITHUB_WORKSPACE')

const compression = await getCompressionMethod()
// what actions/cache's saveCache passes for `path: .`: the workspace itself
await createTar(work, ['.'], compression)
const archive = join(work, getCacheFileName(compression))
const size = (await stat(archive)).size

const authorization = await authorizationFor(target, 'pull,push')
const headers = authorization ? { authorization } : {}
const client = new HttpClient('actions/cache')
const uploads = `${registryUrl(target)}/v2/${target.repository}/blobs/uploads/`
const started = await client.request('POST', uploads, null, headers)
await started.readBody()
const session = uploadLocation(started.message.statusCode, started.message.headers.location, 202)

const hash = createHash('sha256')
const file = createReadStream(archive)
file.on('data', (chunk) => hash.update(chunk))
const sent = await client.sendStream('PATCH', session, file, {
  ...headers,
  'content-type': 'application/octet-stream',
})
await sent.readBody()
const digest = `sha256:${hash.digest('hex')}`
const close = new URL(uploadLocation(sent.message.statusCode, sent.message.headers.location, 202))
close.searchParams.set('digest', digest)
const done = await client.request('PUT', close.href, null, { ...headers, 'content-length': '0' })
const body = await done.readBody()
if (done.message.statusCode !== 201) throw new Error(`upload close: ${done.message.statusCode} ${body}`)
console.log(JSON.stringify({ digest, size }))

function uploadLocation(status: number | undefined, location: string | undefined, expected: number): string {
  if (status !== expected || !location)
    throw new Error(`upload: expected ${expected} with a Location, got ${status}`)
  return new URL(location, registryUrl(target)).href
}
