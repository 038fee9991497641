import { Annotation } from '../../oci/annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { MediaType } from '../../oci/media-types.js'
import { formatPlatform } from '../../oci/platform.js'
import { formatBytes, formatRate, summaryTable } from '../runner/log.js'
import type { PlatformPush } from './publish-tags.js'

export interface PushResult {
  digest: string
  ref: string
  tags: string[]
  /** Bytes of every blob and the manifest, uploaded or found already in the registry. */
  size: number
  /** Bytes actually sent (0 when the registry had every blob). */
  uploaded: number
  url?: string
  /** The manifest's layers, for the summary's download lines. */
  layers?: Descriptor[]
  /** A platform push: its own manifest and the index entries; `digest` is then the index's. */
  platform?: PlatformPush
  files?: number
  uncompressedSize?: number
  seconds: number
}

/** The `uses:` line that calls this very action, as the runner told us where it came from. */
function usesLine(env: NodeJS.ProcessEnv): string {
  const repo = env.GITHUB_ACTION_REPOSITORY || 'oci-artifact-action/oci-artifact-action'
  const ref = env.GITHUB_ACTION_REF || 'v1'
  return `${repo}@${ref}`
}

/** Markdown for the job summary of a push: what was published and three ways to fetch it. */
export function pushSummary(
  result: PushResult,
  target: { registry: string; repository: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const platform = result.platform ? formatPlatform(result.platform.platform) : undefined
  const rows: [string, string][] = [
    ['Reference', `\`${result.ref}\``],
    ['Tags', result.tags.map((t) => `\`${t}\``).join(', ')],
    [platform ? 'Index digest' : 'Digest', `\`${result.digest}\``],
  ]
  if (result.platform) {
    rows.push(['Platform', `\`${platform}\`: \`${result.platform.manifest.digest}\``])
    rows.push(['Platform tags', result.platform.platformTags.map((t) => `\`${t}\``).join(', ')])
  }
  if (result.files !== undefined) rows.push(['Files', String(result.files)])
  if (result.uncompressedSize) {
    rows.push([
      'Size',
      `${formatBytes(result.size)} (from ${formatBytes(result.uncompressedSize)}, ratio ${(result.size / result.uncompressedSize).toFixed(3)})`,
    ])
  } else {
    rows.push(['Size', formatBytes(result.size)])
  }
  rows.push([
    'Uploaded',
    result.uploaded === 0 ? 'nothing: the registry had every blob' : formatBytes(result.uploaded),
  ])
  rows.push([
    'Time',
    `${result.seconds.toFixed(1)} s (${formatRate(result.uploaded || result.size, result.seconds)})`,
  ])
  if (result.url) rows.push(['Package', result.url])

  const image = `${target.registry}/${target.repository}`
  const tag = result.tags[0] ?? result.digest
  let text = `## Pushed ${image}${platform ? ` for ${platform}` : ''}\n\n${summaryTable(rows)}`
  if (result.platform) text += indexTable(tag, result.platform)
  text += '\n### Use it\n\nIn a later job:\n\n```yaml\n'
  text += `- uses: ${usesLine(env)}\n  with:\n    mode: pull\n    repository: ${image}\n    tag: ${result.digest}\n`
  if (platform) text += `    platform: ${platform}\n`
  text += '    path: out\n```\n\nWith ORAS:\n\n```sh\n'
  text += `oras pull ${platform ? `--platform ${platform} ` : ''}${image}:${tag}\n`
  text += '```\n'
  const layers = result.layers ?? []
  if (target.registry === 'ghcr.io' && layers.length > 0) {
    text += '\nWith curl, once the package is public (package settings -> Change visibility):\n\n```sh\n'
    text += `token=$(curl -s "https://ghcr.io/token?scope=repository:${target.repository}:pull" | sed -E 's/.*"token":"([^"]+)".*/\\1/')\n`
    for (const layer of layers) text += `${curlLine(target.repository, layer)}\n`
    text += '```\n'
  }
  return text
}

/** A file name as one shell word: quoted unless it is plainly safe. */
function shellWord(name: string): string {
  return /^[A-Za-z0-9._+-]+$/.test(name) ? name : `'${name.replace(/'/g, `'\\''`)}'`
}

/** The index the first tag now names, this push's entry marked. */
function indexTable(tag: string, pushed: PlatformPush): string {
  const lines = pushed.entries.map((e) => {
    const mine = e.manifest.digest === pushed.manifest.digest && e.tag === pushed.platformTags[0]
    return `| \`${formatPlatform(e.platform)}\`${mine ? ' (this push)' : ''} | \`${e.manifest.digest}\` | \`${e.tag}\` |`
  })
  return (
    `\n### Index \`${tag}\`\n\n| Platform | Manifest | Platform tag |\n|---|---|---|\n` +
    `${lines.join('\n')}\n`
  )
}

/**
 * One blob download per layer: a directory layer (ORAS's unpack annotation, or a tar we packed) is
 * piped to tar; any other layer is one file (a binary, as `oras push FILE` stores it), saved under
 * its title, so the curl of the blob is the file itself.
 */
export function curlLine(repository: string, layer: Descriptor): string {
  const get = `curl -sL -H "Authorization: Bearer $token" https://ghcr.io/v2/${repository}/blobs/${layer.digest}`
  const title = layer.annotations?.[Annotation.Title]
  const unpack = layer.annotations?.[Annotation.OrasUnpack] === 'true'
  const ours = layer.mediaType === MediaType.LayerTarGzip || layer.mediaType === MediaType.LayerTarZstd
  if (unpack || ours || !title) {
    if (layer.mediaType.endsWith('+gzip')) return `${get} | tar -xz`
    if (layer.mediaType.endsWith('+zstd')) return `${get} | tar --zstd -x`
    return `${get} | tar -x`
  }
  return `${get} -o ${shellWord(title)}`
}
