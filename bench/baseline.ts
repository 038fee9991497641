import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { runMeasured, runShell, type Measured } from './measured-process.js'
import { authorizationFor, registryUrl, type RegistryTarget } from './registry-token.js'
import { fetchTrusting } from './tls-fetch.js'
import { emptyDirs } from './work-dir.js'

/**
 * The plain alternatives the action must beat, run as child processes exactly as a user would:
 * the seed's `tar | gzip -6` into an OCI image layout + `skopeo copy`, and for cache mode the
 * actions/cache pipeline (`tar | zstd -T0` to a file, one plain upload; download, then extract).
 */

export interface BaselineTiming {
  wallMs: number
  /** Where the time went, by phase, to tell packing from transfer. */
  phases: Record<string, number>
  /** The largest process's peak RSS over the phases, when GNU time is present. */
  peakRssBytes?: number
}

export interface BaselinePushResult extends BaselineTiming {
  layerDigest: string
  layerSize: number
}

const LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip'
const CONFIG = 'application/vnd.oci.image.config.v1+json'
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json'

/**
 * `tar -cf - DIR | gzip -6` into an OCI image layout (layer, config, manifest, index.json,
 * oci-layout: the seed's shape), then `skopeo copy oci:LAYOUT:TAG docker://...`. The config's
 * diff_id is hashed from a tee of the tar stream, so the tree is read once, as a careful script would.
 */
export async function baselinePush(
  tree: string,
  work: string,
  target: RegistryTarget,
  tag: string,
): Promise<BaselinePushResult> {
  const layout = join(work, 'layout')
  await rm(work, { recursive: true, force: true })
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true })
  const clock = new PhaseClock()

  const pack = await runShell(
    `mkfifo "$WORK/tar.fifo"
     sha256sum < "$WORK/tar.fifo" > "$WORK/diffid" &
     tar -cf - -C "$TREE" . | tee "$WORK/tar.fifo" | gzip -6 > "$WORK/layer.tar.gz"
     wait $!
     sha256sum "$WORK/layer.tar.gz"`,
    { env: { ...process.env, WORK: work, TREE: tree } },
  )
  const layerHex = pack.stdout.split(' ')[0]!
  const diffHex = (await readFile(join(work, 'diffid'), 'utf8')).split(' ')[0]!
  const layerFile = join(layout, 'blobs', 'sha256', layerHex)
  await rename(join(work, 'layer.tar.gz'), layerFile)
  const layerSize = (await stat(layerFile)).size
  const config = await writeBlob(
    layout,
    CONFIG,
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffHex}`] },
    }),
  )
  const layer = { mediaType: LAYER_GZIP, digest: `sha256:${layerHex}`, size: layerSize }
  const manifest = await writeBlob(
    layout,
    MANIFEST,
    JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] }),
  )
  const index = {
    schemaVersion: 2,
    manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  }
  await writeFile(join(layout, 'index.json'), JSON.stringify(index))
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }))
  clock.lap('pack', pack.peakRssBytes)

  await forgetSkopeoBlobs()
  const copy = await runMeasured('skopeo', [
    'copy',
    '--quiet',
    ...skopeoTls('dest', target),
    '--dest-creds',
    `${target.username}:${target.password}`,
    `oci:${layout}:${tag}`,
    `docker://${target.registry}/${target.repository}:${tag}`,
  ])
  clock.lap('upload', copy.peakRssBytes)
  return { ...clock.result(), layerDigest: layer.digest, layerSize }
}

/**
 * skopeo remembers where it has seen each blob (containers/image's blob info cache) and mounts it
 * from there into another repository instead of uploading it: the second and third repeats, into
 * fresh repositories, then sent no layer at all (0.1 s instead of 3.8 s across the link). A fresh
 * runner has no such memory, so each baseline push starts without it. The push again, into the
 * same repository, still skips the layer, by a HEAD that needs no cache.
 */
async function forgetSkopeoBlobs(): Promise<void> {
  const dirs =
    process.getuid?.() === 0
      ? ['/var/lib/containers/cache']
      : [join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'containers', 'cache')]
  for (const dir of dirs) {
    for (const name of ['blob-info-cache-v1.boltdb', 'blob-info-cache-v1.sqlite']) {
      await rm(join(dir, name), { force: true })
    }
  }
}

/** `skopeo copy docker://... oci:OUT:TAG`, then `tar -xzf` of the layer into `dest`. */
export async function baselinePull(
  target: RegistryTarget,
  tag: string,
  work: string,
  dest: string,
): Promise<BaselineTiming> {
  const layout = join(work, 'pulled')
  await emptyDirs(work, dest)
  const clock = new PhaseClock()

  const copy = await runMeasured('skopeo', [
    'copy',
    '--quiet',
    ...skopeoTls('src', target),
    '--src-creds',
    `${target.username}:${target.password}`,
    `docker://${target.registry}/${target.repository}:${tag}`,
    `oci:${layout}:${tag}`,
  ])
  clock.lap('download', copy.peakRssBytes)

  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[]
  }
  const manifest = JSON.parse(await readFile(blobFile(layout, index.manifests[0]!.digest), 'utf8')) as {
    layers: { digest: string }[]
  }
  const extract = await runMeasured('tar', ['-xzf', blobFile(layout, manifest.layers[0]!.digest), '-C', dest])
  clock.lap('extract', extract.peakRssBytes)
  return clock.result()
}

export interface BaselineCacheSaveResult extends BaselineTiming {
  digest: string
  size: number
}

/**
 * actions/cache's save: `tar | zstd -T0` to a file, then one plain upload of that file. The file
 * is hashed by a tee as it is written (the registry addresses blobs by digest), and sent with curl
 * as one monolithic PUT, the simplest upload the distribution API has.
 */
export async function baselineCacheSave(
  tree: string,
  work: string,
  target: RegistryTarget,
): Promise<BaselineCacheSaveResult> {
  await emptyDirs(work)
  const archive = join(work, 'cache.tzst')
  const clock = new PhaseClock()

  const pack = await runShell(`tar -cf - -C "$TREE" . | zstd -q -T0 | tee "$ARCHIVE" | sha256sum`, {
    env: { ...process.env, TREE: tree, ARCHIVE: archive },
  })
  const digest = `sha256:${pack.stdout.split(' ')[0]!}`
  const size = (await stat(archive)).size
  clock.lap('pack', pack.peakRssBytes)

  const upload = await uploadWithCurl(target, archive, digest)
  clock.lap('upload', upload.peakRssBytes)
  return { ...clock.result(), digest, size }
}

/**
 * One blob up in one request: a POST for the session, then curl's monolithic PUT of the file
 * with its digest, the simplest upload the distribution API has.
 */
export async function uploadWithCurl(
  target: RegistryTarget,
  file: string,
  digest: string,
): Promise<Measured> {
  const send = fetchTrusting(target.caFile)
  const authorization = await authorizationFor(target, 'pull,push', send)
  const start = await send(`${registryUrl(target)}/v2/${target.repository}/blobs/uploads/`, {
    method: 'POST',
    headers: authorization ? { authorization } : {},
  })
  await start.body?.cancel()
  const location = start.headers.get('location')
  if (start.status !== 202 || !location) throw new Error(`upload start: ${start.status}`)
  const put = new URL(location, registryUrl(target))
  put.searchParams.set('digest', digest)
  return runMeasured('curl', [
    ...curlTls(target),
    '--fail-with-body',
    '--silent',
    '--show-error',
    '--upload-file',
    file,
    '--header',
    'content-type: application/octet-stream',
    ...(authorization ? ['--header', `authorization: ${authorization}`] : []),
    put.href,
  ])
}

/** actions/cache's restore: download the archive to a file with curl, then `zstd -d | tar -x`. */
export async function baselineCacheRestore(
  target: RegistryTarget,
  digest: string,
  work: string,
  dest: string,
): Promise<BaselineTiming> {
  await emptyDirs(work, dest)
  const archive = join(work, 'cache.tzst')
  const clock = new PhaseClock()

  const download = await downloadWithCurl(target, digest, archive)
  clock.lap('download', download.peakRssBytes)

  const extract = await runShell(`zstd -q -d -c "$ARCHIVE" | tar -xf - -C "$DEST"`, {
    env: { ...process.env, ARCHIVE: archive, DEST: dest },
  })
  clock.lap('extract', extract.peakRssBytes)
  return clock.result()
}

/**
 * skopeo trusts the bed's CA through a certificate directory (its *.crt files are CAs: the link
 * setup keeps the CA alone in one as ca.crt); the loopback bed is plain http, which skopeo
 * reaches only with verification off.
 */
export function skopeoTls(side: 'src' | 'dest' | 'both', target: RegistryTarget): string[] {
  const flag = side === 'both' ? '--' : `--${side}-`
  return target.caFile ? [`${flag}cert-dir`, dirname(target.caFile)] : [`${flag}tls-verify=false`]
}

function curlTls(target: RegistryTarget): string[] {
  return target.caFile ? ['--cacert', target.caFile] : []
}

/**
 * One blob down with curl into `output`, following the registry's redirect to the storage host;
 * curl drops the Authorization header on the way, as it does for any other origin. Its stdout is
 * what `--write-out` asks for.
 */
export async function downloadWithCurl(
  target: RegistryTarget,
  digest: string,
  output: string,
  writeOut?: string,
): Promise<Measured> {
  const authorization = await authorizationFor(target, 'pull', fetchTrusting(target.caFile))
  return runMeasured('curl', [
    ...curlTls(target),
    '--fail-with-body',
    '--silent',
    '--show-error',
    '--location',
    '--output',
    output,
    ...(writeOut ? ['--write-out', writeOut] : []),
    ...(authorization ? ['--header', `authorization: ${authorization}`] : []),
    `${registryUrl(target)}/v2/${target.repository}/blobs/${digest}`,
  ])
}

function blobFile(layout: string, digest: string): string {
  return join(layout, 'blobs', ...digest.split(':'))
}

async function writeBlob(layout: string, mediaType: string, content: string) {
  const bytes = Buffer.from(content)
  const hex = createHash('sha256').update(bytes).digest('hex')
  await writeFile(join(layout, 'blobs', 'sha256', hex), bytes)
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length }
}

/** Wall time per phase and overall, and the largest peak RSS seen. */
class PhaseClock {
  private readonly started = performance.now()
  private last = this.started
  private readonly phases: Record<string, number> = {}
  private peak: number | undefined

  lap(name: string, peakRssBytes?: number): void {
    const now = performance.now()
    this.phases[name] = now - this.last
    this.last = now
    if (peakRssBytes !== undefined) this.peak = Math.max(this.peak ?? 0, peakRssBytes)
  }

  result(): BaselineTiming {
    return { wallMs: this.last - this.started, phases: this.phases, peakRssBytes: this.peak }
  }
}
