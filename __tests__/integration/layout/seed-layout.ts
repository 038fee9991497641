import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

export interface SeedLayout {
  dir: string
  manifest: { mediaType: string; digest: string; size: number }
  config: { digest: string; size: number }
  layer: { digest: string; size: number }
}

/**
 * A layout shaped like the one the project's seed publishes with `skopeo copy oci:DIR:1.0.0`: one
 * tar.gz layer made by GNU tar and gzip, an image config and a manifest written by hand. The
 * manifest is deliberately indented and ordered unlike JSON.stringify would write it, so a push
 * that re-serialised it would change its digest.
 */
export async function writeSeedLayout(dir: string, content: string, refName = '1.0.0'): Promise<SeedLayout> {
  const files = path.join(dir, '..', `${path.basename(dir)}-content`)
  await mkdir(path.join(files, 'anakin', 'bin'), { recursive: true })
  await writeFile(path.join(files, 'anakin', 'README.md'), `# anakin\n${content}\n`)
  await writeFile(path.join(files, 'anakin', 'bin', 'anakin'), '#!/bin/sh\necho anakin\n', { mode: 0o755 })
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true })
  const tarFile = path.join(dir, '..', `${path.basename(dir)}-layer.tar`)
  await run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-cf',
    tarFile,
    '-C',
    files,
    'anakin',
  ])
  await run('gzip', ['-n', '-9', tarFile])
  const tar = await run('gzip', ['-dc', `${tarFile}.gz`], { encoding: 'buffer', maxBuffer: 1 << 30 })
  const layerBytes = await readFile(`${tarFile}.gz`)

  const put = async (bytes: Buffer) => {
    const digest = sha256(bytes)
    await writeFile(path.join(dir, 'blobs', 'sha256', digest.slice(7)), bytes)
    return { digest, size: bytes.length }
  }
  const layer = await put(layerBytes)
  const config = await put(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [sha256(tar.stdout)] },
      }),
    ),
  )
  const manifestText =
    '{\n' +
    '   "schemaVersion": 2,\n' +
    '   "mediaType": "application/vnd.oci.image.manifest.v1+json",\n' +
    `   "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "size": ${config.size}, "digest": "${config.digest}" },\n` +
    `   "layers": [ { "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "size": ${layer.size}, "digest": "${layer.digest}" } ],\n` +
    '   "annotations": { "org.opencontainers.image.title": "anakin" }\n' +
    '}\n'
  const manifest = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    ...(await put(Buffer.from(manifestText))),
  }
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}')
  await writeFile(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': refName } }],
    }),
  )
  return { dir, manifest, config, layer }
}
