import { describe, expect, test } from '@jest/globals'
import { Readable } from 'node:stream'
import { descriptorOf, sha256Digest } from '../../../src/oci/descriptor.js'
import { DigestMismatchError, RegistryError } from '../../../src/oci/errors.js'
import { MediaType } from '../../../src/oci/media-types.js'
import { Repository } from '../../../src/oci/repository.js'
import { ResponseTooLargeError } from '../../../src/oci/response-body.js'
import { fetchExchange } from './scripted-send.js'

interface Seen {
  method: string
  url: string
  headers: Headers
  body?: Buffer
}

// A registry in a function: each request goes to `answer`, after its body has been read.
function registry(answer: (req: Seen, n: number) => Response | Promise<Response>) {
  const seen: Seen[] = []
  const fetchImpl: typeof fetch = async (input, init) => {
    let body: Buffer | undefined
    if (init?.body) {
      const b = init.body as unknown
      body = Buffer.isBuffer(b) ? b : Buffer.concat(await (b as Readable).toArray())
    }
    const req = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: new Headers(init?.headers),
      body,
    }
    seen.push(req)
    return answer(req, seen.length - 1)
  }
  const repo = new Repository({
    registry: 'registry.example',
    repository: 'o/n',
    actions: ['pull', 'push'],
    exchange: fetchExchange(fetchImpl),
    retry: { sleep: async () => {} },
    userAgent: 'test-agent/1',
  })
  return { repo, seen }
}

const manifest = Buffer.from(
  JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }),
)
const digest = sha256Digest(manifest)
const BASE = 'https://registry.example/v2/o/n'

describe('manifests', () => {
  test('get sends the Accept of OCI and Docker types and returns the bytes, type and digest', async () => {
    const { repo, seen } = registry(
      () =>
        new Response(new Uint8Array(manifest), {
          headers: { 'content-type': MediaType.OciManifest, 'docker-content-digest': digest },
        }),
    )
    expect(await repo.getManifest('v1')).toEqual({
      bytes: manifest,
      mediaType: MediaType.OciManifest,
      digest,
    })
    expect(seen[0]!.url).toBe(`${BASE}/manifests/v1`)
    const accept = seen[0]!.headers.get('accept')!.split(', ')
    expect(accept).toEqual([
      MediaType.OciManifest,
      MediaType.OciIndex,
      MediaType.DockerManifest,
      MediaType.DockerManifestList,
    ])
    expect(seen[0]!.headers.get('user-agent')).toBe('test-agent/1')
  })

  test('bytes that do not match the Docker-Content-Digest are refused', async () => {
    const lie = sha256Digest('something else')
    const { repo } = registry(
      () => new Response(new Uint8Array(manifest), { headers: { 'docker-content-digest': lie } }),
    )
    await expect(repo.getManifest('v1')).rejects.toThrow(DigestMismatchError)
  })

  test('bytes that do not match the digest asked for are refused', async () => {
    const { repo } = registry(() => new Response(new Uint8Array(manifest)))
    const other = sha256Digest('other')
    const error = (await repo.getManifest(other).catch((e: unknown) => e)) as DigestMismatchError
    expect(error).toBeInstanceOf(DigestMismatchError)
    expect(error.expected).toBe(other)
    expect(error.actual).toBe(digest)
  })

  test('a manifest over 4 MiB is refused, whether or not its length is declared', async () => {
    const big = new Uint8Array(4 * 1024 * 1024 + 1)
    const declared = registry(() => new Response(big, { headers: { 'content-length': String(big.length) } }))
    await expect(declared.repo.getManifest('v1')).rejects.toThrow(ResponseTooLargeError)
    const streamed = registry(
      () => new Response(Readable.toWeb(Readable.from([Buffer.from(big)])) as ReadableStream),
    )
    await expect(streamed.repo.getManifest('v1')).rejects.toThrow(ResponseTooLargeError)
  })

  test('the media type comes from the document when the Content-Type is generic', async () => {
    const { repo } = registry(
      () => new Response(new Uint8Array(manifest), { headers: { 'content-type': 'application/json' } }),
    )
    expect((await repo.getManifest('v1')).mediaType).toBe(MediaType.OciManifest)
  })

  test('put sends the exact bytes with the Content-Type and returns their digest', async () => {
    const { repo, seen } = registry(
      () => new Response(null, { status: 201, headers: { 'docker-content-digest': digest } }),
    )
    expect(await repo.putManifest(manifest, MediaType.OciManifest, 'v1')).toBe(digest)
    expect(seen[0]).toMatchObject({ method: 'PUT', url: `${BASE}/manifests/v1`, body: manifest })
    expect(seen[0]!.headers.get('content-type')).toBe(MediaType.OciManifest)
  })

  test('put under a digest that is not the bytes is refused before any request', async () => {
    const { repo, seen } = registry(() => new Response(null, { status: 201 }))
    await expect(repo.putManifest(manifest, MediaType.OciManifest, sha256Digest('x'))).rejects.toThrow(
      DigestMismatchError,
    )
    await expect(repo.putManifest(manifest, MediaType.OciManifest, 'bad tag')).rejects.toThrow(
      /neither a valid tag/,
    )
    expect(seen).toHaveLength(0)
  })

  test('head gives a descriptor from the headers, undefined for 404, and asks the GET when headers are missing', async () => {
    const headers = {
      'content-type': MediaType.OciManifest,
      'docker-content-digest': digest,
      'content-length': String(manifest.length),
    }
    const full = registry(() => new Response(null, { headers }))
    expect(await full.repo.headManifest('v1')).toEqual({
      mediaType: MediaType.OciManifest,
      digest,
      size: manifest.length,
    })
    expect(full.seen.map((s) => s.method)).toEqual(['HEAD'])

    const missing = registry((_, n) => (n === 0 ? new Response(null, { status: 404 }) : new Response('')))
    expect(await missing.repo.headManifest('v1')).toBeUndefined()

    const bare = registry((req) =>
      req.method === 'HEAD'
        ? new Response(null)
        : new Response(new Uint8Array(manifest), { headers: { 'content-type': MediaType.OciManifest } }),
    )
    expect(await bare.repo.headManifest('v1')).toEqual({
      mediaType: MediaType.OciManifest,
      digest,
      size: manifest.length,
    })
    expect(bare.seen.map((s) => s.method)).toEqual(['HEAD', 'GET'])
  })
})

describe('blobs', () => {
  const data = Buffer.from('blob bytes')
  const desc = descriptorOf(data, MediaType.LayerTarGzip)

  test('push: POST for a session, then one PUT ?digest= with the bytes and their Content-Length', async () => {
    const { repo, seen } = registry((req) =>
      req.method === 'POST'
        ? new Response(null, { status: 202, headers: { location: '/v2/o/n/blobs/uploads/u1?_state=s' } })
        : new Response(null, { status: 201 }),
    )
    await repo.pushBlob(desc, () => Readable.from([data]))
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PUT'])
    expect(seen[0]!.url).toBe(`${BASE}/blobs/uploads/`)
    const put = new URL(seen[1]!.url)
    expect(put.pathname).toBe('/v2/o/n/blobs/uploads/u1')
    expect(put.searchParams.get('_state')).toBe('s')
    expect(put.searchParams.get('digest')).toBe(desc.digest)
    expect(seen[1]!.headers.get('content-length')).toBe(String(data.length))
    expect(seen[1]!.body).toEqual(data)
  })

  test('a failed PUT starts the upload over from a new session and a re-opened source', async () => {
    let opened = 0
    let progress = 0
    const { repo, seen } = registry((req, n) => {
      if (req.method === 'POST') return new Response(null, { status: 202, headers: { location: `/u/${n}` } })
      return new Response(null, { status: seen.filter((s) => s.method === 'PUT').length === 1 ? 500 : 201 })
    })
    await repo.pushBlob(
      desc,
      () => {
        opened++
        return Readable.from([data])
      },
      { onProgress: (bytes) => (progress += bytes) },
    )
    expect(seen.map((s) => `${s.method} ${new URL(s.url).pathname}`)).toEqual([
      'POST /v2/o/n/blobs/uploads/',
      'PUT /u/0',
      'POST /v2/o/n/blobs/uploads/',
      'PUT /u/2',
    ])
    expect(opened).toBe(2)
    expect(progress).toBe(data.length)
  })

  test('a refused PUT is not retried', async () => {
    const { repo, seen } = registry((req) =>
      req.method === 'POST'
        ? new Response(null, { status: 202, headers: { location: '/u' } })
        : new Response(
            JSON.stringify({ errors: [{ code: 'DIGEST_INVALID', message: 'digest did not match' }] }),
            {
              status: 400,
            },
          ),
    )
    const error = (await repo
      .pushBlob(desc, () => Readable.from([data]))
      .catch((e: unknown) => e)) as RegistryError
    expect(error).toBeInstanceOf(RegistryError)
    expect(error.codes[0]!.code).toBe('DIGEST_INVALID')
    expect(seen).toHaveLength(2)
  })

  test('exists: 200 is true, 404 false, anything else an error', async () => {
    const statuses = [200, 404, 403]
    const { repo } = registry((_, n) => new Response(null, { status: statuses[n] }))
    expect(await repo.blobExists(desc.digest)).toBe(true)
    expect(await repo.blobExists(desc.digest)).toBe(false)
    await expect(repo.blobExists(desc.digest)).rejects.toThrow(RegistryError)
    await expect(repo.blobExists('sha256:nothex')).rejects.toThrow(/not a valid digest/)
  })

  test('a mount the registry answers with 201 sends no bytes', async () => {
    const { repo, seen } = registry(() => new Response(null, { status: 201 }))
    const open = () => {
      throw new Error('a mounted blob is not read')
    }
    expect(await repo.pushBlob(desc, open, { mountFrom: 'o/other' })).toBe('mounted')
    const post = new URL(seen[0]!.url)
    expect(post.searchParams.get('mount')).toBe(desc.digest)
    expect(post.searchParams.get('from')).toBe('o/other')
    expect(seen).toHaveLength(1)
  })

  test('a mount the registry answers with 202 goes on as an upload in the session it opened', async () => {
    const { repo, seen } = registry((req) =>
      req.method === 'POST'
        ? new Response(null, { status: 202, headers: { location: '/v2/o/n/blobs/uploads/u9' } })
        : new Response(null, { status: 201 }),
    )
    expect(await repo.pushBlob(desc, () => Readable.from([data]), { mountFrom: 'o/other' })).toBe('uploaded')
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /v2/o/n/blobs/uploads/',
      'PUT /v2/o/n/blobs/uploads/u9',
    ])
    expect(seen[1]!.body?.equals(data)).toBe(true)
  })

  test('a resume answered once with 503 by the storage host is retried, and the download completes', async () => {
    const big = Buffer.alloc(64 * 1024, 7)
    const bigDesc = descriptorOf(big, MediaType.LayerTarGzip)
    const storage = 'https://storage.example/blob?sig=x'
    const { repo, seen } = registry((req) => {
      if (req.url.startsWith(BASE)) return new Response(null, { status: 307, headers: { location: storage } })
      const range = req.headers.get('range')
      const storageGets = seen.filter((s) => s.url === storage).length
      if (!range) return cutBody(big.subarray(0, 10_000))
      if (storageGets === 2) return new Response('busy', { status: 503 })
      const from = Number(/bytes=(\d+)-/.exec(range)![1])
      return new Response(new Uint8Array(big.subarray(from)), {
        status: 206,
        headers: { 'content-range': `bytes ${from}-${big.length - 1}/${big.length}` },
      })
    })
    expect(Buffer.concat(await (await repo.fetchBlob(bigDesc)).toArray()).equals(big)).toBe(true)
    // first GET, a resume the storage host refused once, and the same resume again
    expect(seen.filter((s) => s.url === storage).map((s) => s.headers.get('range'))).toEqual([
      null,
      'bytes=10000-',
      'bytes=10000-',
    ])
  })

  test('fetch asks for the bytes as they are stored, not re-encoded', async () => {
    const { repo, seen } = registry(() => new Response(new Uint8Array(data)))
    await (await repo.fetchBlob(desc)).toArray()
    expect(seen[0]!.headers.get('accept-encoding')).toBe('identity')
  })
})

// A 200 whose body stops after `bytes`, as a dropped connection does.
function cutBody(bytes: Buffer): Response {
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(new Uint8Array(bytes)),
    pull: (controller) =>
      controller.error(
        new TypeError('terminated', {
          cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
        }),
      ),
  })
  return new Response(body, { status: 200 })
}

describe('tags', () => {
  test('follows Link pages, relative or absolute, and joins them', async () => {
    const pages = [
      { tags: ['a', 'b'], link: '</v2/o/n/tags/list?n=2&last=b>; rel="next"' },
      { tags: ['c', 'd'], link: `<${BASE}/tags/list?n=2&last=d>; rel="next"` },
      { tags: ['e'], link: undefined },
    ]
    const { repo, seen } = registry((_, n) => {
      const page = pages[n]!
      return new Response(JSON.stringify({ name: 'o/n', tags: page.tags }), {
        headers: page.link ? { link: page.link } : {},
      })
    })
    expect(await repo.listTags({ pageSize: 2 })).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(seen.map((s) => new URL(s.url).search)).toEqual(['?n=2', '?n=2&last=b', '?n=2&last=d'])
  })

  test('a repository the registry does not know has no tags; null tags are none', async () => {
    const unknown = registry(
      () =>
        new Response(JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: '' }] }), { status: 404 }),
    )
    expect(await unknown.repo.listTags()).toEqual([])
    const none = registry(() => new Response(JSON.stringify({ name: 'o/n', tags: null })))
    expect(await none.repo.listTags()).toEqual([])
  })

  test('a Link that points back to a page already read ends the listing', async () => {
    const { repo, seen } = registry(
      () =>
        new Response(JSON.stringify({ tags: ['x'] }), {
          headers: { link: '</v2/o/n/tags/list>; rel="next"' },
        }),
    )
    expect(await repo.listTags()).toEqual(['x'])
    expect(seen).toHaveLength(1)
  })
})

describe('secrets', () => {
  test('no token, password or signed-URL query reaches the log, and the storage host gets no credentials', async () => {
    const data = Buffer.from('blob bytes')
    const desc = descriptorOf(data, MediaType.LayerTarGzip)
    const seen: { url: string; authorization: string | null }[] = []
    const fetchImpl: typeof fetch = async (input, init) => {
      const url = String(input)
      const authorization = new Headers(init?.headers).get('authorization')
      seen.push({ url, authorization })
      if (url.startsWith('https://auth.example/')) {
        return new Response(JSON.stringify({ token: 'SECRET-TOKEN', expires_in: 300 }))
      }
      if (url.startsWith('https://storage.example/')) return new Response(new Uint8Array(data))
      if (authorization !== 'Bearer SECRET-TOKEN') {
        return new Response(null, {
          status: 401,
          headers: {
            'www-authenticate': 'Bearer realm="https://auth.example/token",service="registry.example"',
          },
        })
      }
      return new Response(null, {
        status: 307,
        headers: {
          location: 'https://storage.example/blob?X-Amz-Signature=SIGNATURE&X-Amz-Credential=KEYID',
        },
      })
    }
    const lines: string[] = []
    const log = (m: string) => void lines.push(m)
    const repo = new Repository({
      registry: 'registry.example',
      repository: 'o/n',
      credentials: { username: 'alice', password: 'PASSWORD' },
      actions: ['pull'],
      exchange: fetchExchange(fetchImpl),
      logger: { debug: log, info: log, warning: log },
    })
    expect(Buffer.concat(await (await repo.fetchBlob(desc)).toArray()).equals(data)).toBe(true)

    expect(lines.length).toBeGreaterThan(3)
    const logged = lines.join('\n')
    for (const secret of [
      'SECRET-TOKEN',
      'PASSWORD',
      Buffer.from('alice:PASSWORD').toString('base64'),
      'SIGNATURE',
      'KEYID',
    ]) {
      expect(logged).not.toContain(secret)
    }
    expect(logged).toContain('https://storage.example/blob?X-Amz-Signature=REDACTED')
    const storage = seen.filter((s) => s.url.startsWith('https://storage.example/'))
    expect(storage).toEqual([expect.objectContaining({ authorization: null })])
  })
})
