/**
 * actions/cache's restore, run with its own code (@actions/cache's restoreCacheV2 from the point
 * where the cache service has answered): `downloadCache` fetches the archive to a file with
 * @actions/http-client, then `extractTar` runs tar with zstd into GITHUB_WORKSPACE, as the action
 * does. The service's answer, a signed URL that needs no credentials, is stood in for by the
 * registry's redirect of the blob to its storage host, asked for with a token as any client would.
 * (On github.com the URL is Azure's, which @actions/cache downloads with the Azure SDK instead.)
 *
 * Bundled by scripts/bench.sh with ncc, as actions/cache ships, and run by the Node 24 of the
 * benchmark: its start-up counts, as our step's does. Environment: BENCH_TARGET (a
 * RegistryTarget as JSON), BENCH_DIGEST, BENCH_ARCHIVE (where the archive is downloaded to),
 * GITHUB_WORKSPACE (where it is extracted).
 */
// The package's exports map lists only its entry point; these are the functions that entry calls.
import { downloadCache } from '../../node_modules/@actions/cache/lib/internal/cacheHttpClient.js'
import { getCompressionMethod } from '../../node_modules/@actions/cache/lib/internal/cacheUtils.js'
import { extractTar } from '../../node_modules/@actions/cache/lib/internal/tar.js'
import { authorizationFor, registryUrl } from '../registry-token.js'
import { benchTarget, required } from './step-environment.js'

const target = benchTarget()
const digest = required('BENCH_DIGEST')
const archive = required('BENCH_ARCHIVE')
// where @actions/cache's tar works; it reads the variable itself
required('GITHUB_WORKSPACE')

const authorization = await authorizationFor(target, 'pull')
const blob = await fetch(`${registryUrl(target)}/v2/${target.repository}/blobs/${digest}`, {
  headers: authorization ? { authorization } : {},
  redirect: 'manual',
})
await blob.body?.cancel()
const location = blob.headers.get('location')
if (blob.status !== 307 || !location)
  throw new Error(`expected a redirect to the storage host, got ${blob.status}`)

const compression = await getCompressionMethod()
await downloadCache(new URL(location, registryUrl(target)).href, archive)
await extractTar(archive, compression)
