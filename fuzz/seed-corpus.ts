// Writes the committed seed corpora (fuzz/corpus/<target>/) from the hostile-archive fixtures of
// __tests__/unit/archive/hostile.test.ts and a few well-formed manifests: `npm run fuzz -- --seed`.
// Each target's first input byte is an option byte (see the target); the seeds set it.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { rawTar, type RawEntry } from '../__tests__/unit/archive/hostile-tar.js'
import { buildManifest, EMPTY_CONFIG } from '../src/oci/manifest.js'
import { MediaType } from '../src/oci/media-types.js'

// run from the repository's root (scripts/fuzz.sh), as the compiled file sits in .build/
const corpus = path.resolve('fuzz/corpus')
const ok: RawEntry = { path: 'fine.txt', body: 'fine' }
const digest = (c: string) => `sha256:${c.repeat(64)}`

// name -> entries: one archive per case of the hostile tests, and well-formed ones
const archives: Record<string, RawEntry[]> = {
  'plain-tree': [
    { path: 'dir/', type: 'Directory' },
    { path: 'dir/a.txt', body: 'a\n' },
    { path: 'dir/run.sh', body: '#!/bin/sh\n', mode: 0o755 },
    { path: 'dir/link', type: 'SymbolicLink', linkpath: 'a.txt' },
    { path: 'dir/hard', type: 'Link', linkpath: 'dir/a.txt' },
    { path: 'empty/', type: 'Directory', mode: 0o700 },
  ],
  'oras-prefix': [
    { path: 'p/', type: 'Directory' },
    { path: 'p/a.txt', body: 'a' },
  ],
  'long-name-pax': [{ path: 'x', body: 'long', pax: { path: `${'d'.repeat(120)}/${'f'.repeat(120)}` } }],
  'name-too-long': [{ path: 'x', body: 'x', pax: { path: 'a'.repeat(300) } }],
  'pax-size': [{ path: 'm', body: 'sized', pax: { size: '5' } }],
  dotdot: [ok, { path: '../outside/victim', body: 'pwned' }],
  'dotdot-deep': [ok, { path: 'a/b/../../../outside/victim', body: 'pwned' }],
  'dotdot-backslash': [ok, { path: '..\\outside\\victim', body: 'pwned' }],
  absolute: [ok, { path: '/tmp/evil', body: 'pwned' }],
  'absolute-drive': [ok, { path: 'C:\\evil', body: 'pwned' }],
  'pax-traversal': [ok, { path: 'innocent.txt', body: 'pwned', pax: { path: '../outside/victim' } }],
  'gnu-long-traversal': [
    ok,
    { path: '././@LongLink', type: 'NextFileHasLongPath', body: '../outside/victim\0' },
    { path: 'innocent.txt', body: 'pwned' },
  ],
  'through-symlink': [
    { path: 'link', type: 'SymbolicLink', linkpath: '../../outside' },
    { path: 'link/victim', body: 'pwned' },
  ],
  'through-existing-symlink': [
    { path: 'escape/victim', body: 'pwned' },
    { path: 'victim-link', body: 'mine' },
  ],
  'hardlink-outside': [
    { path: 'link', type: 'SymbolicLink', linkpath: '../../outside' },
    { path: 'hard', type: 'Link', linkpath: 'link/victim' },
  ],
  'hardlink-later': [
    { path: 'hard', type: 'Link', linkpath: 'later.txt' },
    { path: 'later.txt', body: 'later' },
  ],
  device: [ok, { path: 'dev', type: 'CharacterDevice' }],
  fifo: [ok, { path: 'fifo', type: 'FIFO' }],
  'outside-prefix': [
    { path: 'p/', type: 'Directory' },
    { path: 'p/a.txt', body: 'a' },
    { path: 'other/b.txt', body: 'b' },
  ],
  'dir-with-body': [
    { path: 'dir/', type: 'Directory', body: rawTar([{ path: 'evil', body: 'pwned' }], { end: false }) },
  ],
  'file-over-dir': [
    { path: 'd/', type: 'Directory' },
    { path: 'd/x', body: 'x' },
    { path: 'd', body: 'file' },
  ],
  'file-under-file': [
    { path: 'f', body: 'file' },
    { path: 'f/x', body: 'x' },
  ],
  'symlink-then-file': [
    { path: 'victim', type: 'SymbolicLink', linkpath: '../../outside/victim' },
    { path: 'victim', body: 'mine' },
  ],
  'symlink-then-dir': [
    { path: 'd', type: 'SymbolicLink', linkpath: '../../outside' },
    { path: 'd/', type: 'Directory' },
    { path: 'd/victim', body: 'mine' },
  ],
}

const manifests: Record<string, unknown> = {
  'oci-manifest': JSON.parse(
    buildManifest({
      artifactType: 'application/vnd.oci-artifact-action.directory.v1',
      layers: [
        {
          mediaType: MediaType.LayerTarGzip,
          digest: digest('a'),
          size: 42,
          annotations: { 'org.opencontainers.image.title': 'dist' },
        },
      ],
      annotations: { 'org.opencontainers.image.created': '1970-01-01T00:00:00Z' },
    }).bytes.toString(),
  ),
  'docker-manifest': {
    schemaVersion: 2,
    mediaType: MediaType.DockerManifest,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: digest('b'), size: 7 },
    layers: [
      { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: digest('c'), size: 9 },
    ],
  },
  'with-subject': {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: EMPTY_CONFIG,
    layers: [],
    subject: { mediaType: MediaType.OciManifest, digest: digest('d'), size: 100 },
  },
  'oci-index': {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    manifests: [
      {
        mediaType: MediaType.OciManifest,
        digest: digest('e'),
        size: 300,
        platform: { architecture: 'amd64', os: 'linux' },
      },
      {
        mediaType: MediaType.OciManifest,
        digest: digest('f'),
        size: 301,
        annotations: { 'org.opencontainers.image.ref.name': '1.0.0' },
      },
    ],
  },
  'layout-index': {
    schemaVersion: 2,
    manifests: [{ mediaType: MediaType.OciManifest, digest: digest('1'), size: 3 }],
  },
  'bad-digest': {
    schemaVersion: 2,
    manifests: [{ mediaType: MediaType.OciManifest, digest: 'sha256:../../x', size: 3 }],
  },
  'bad-size': {
    schemaVersion: 2,
    config: EMPTY_CONFIG,
    layers: [{ mediaType: 'x', digest: digest('2'), size: -1 }],
  },
}

const entryPaths = [
  'fine.txt',
  'a/b/c',
  './a/./b/',
  '../outside/victim',
  'a/../../outside',
  '..\\outside\\victim',
  '/tmp/evil',
  '\\\\server\\share',
  'C:/evil',
  'C:\\evil',
  'a\0b',
  'p/a.txt\np',
  'other/b.txt\np',
  'p\np',
  './p/\n./p/',
  'p/../x\np',
]

function write(target: string, files: Record<string, Buffer>): void {
  const dir = path.join(corpus, target)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes)
}

const withByte = (byte: number, bytes: Buffer) => Buffer.concat([Buffer.from([byte]), bytes])
const tars = Object.entries(archives).map(([name, entries]) => [name, rawTar(entries)] as const)
// the cut at a third of the way, so a header or body is split
write('tar-reader', Object.fromEntries(tars.map(([name, tar]) => [name, withByte(85, tar)])))
// an existing dest (bit 0) for every case; the prefix cases with stripPrefix "p" (bit 2)
write(
  'extract',
  Object.fromEntries(tars.map(([name, tar]) => [name, withByte(name.includes('prefix') ? 5 : 1, tar)])),
)
write(
  'manifest',
  Object.fromEntries(
    Object.entries(manifests).map(([name, json], i) => [
      name,
      withByte(i, Buffer.from(JSON.stringify(json))),
    ]),
  ),
)
write('entry-path', Object.fromEntries(entryPaths.map((p, i) => [`path-${i}`, Buffer.from(p)])))
