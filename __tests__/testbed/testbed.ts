import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './listen.js'
import { registryConfig } from './registry-config.js'
import { startRegistryProcess, type RegistryProcess } from './registry-process.js'
import { createSigningKey } from './signing-key.js'
import { startStorageHost, type StorageFault, type StorageRequest } from './storage-host.js'
import type { TestNetwork } from './netns.js'
import { createTestCertificates, type TestCertificates } from './tls.js'
import { startTokenService, type TokenRequest, type TokenService } from './token-service.js'

export interface TestbedOptions {
  /** Users and their secrets; default alice and bob (see DEFAULT_USERS). */
  users?: Record<string, string>
  /** Token lifetime; the registry adds 60 s of leeway to it. Default 300, like Distribution's default. */
  tokenTtlSeconds?: number
  /** Grant `delete` to repository owners (ghcr.io grants none through the registry API). */
  allowDelete?: boolean
  /**
   * https for the registry, the token service and the storage host, with certificates from a
   * throwaway CA (`caFile`); clients trust it through NODE_EXTRA_CA_CERTS.
   */
  tls?: boolean
  /**
   * Where the bed lives: the registry inside this namespace (`network.nsAddress`), the token
   * service and storage host on our end of its veth pair (`network.hostAddress`). Default: loopback.
   */
  network?: TestNetwork
  /** The storage host closes connections idle this long (see StorageHostOptions). Default: never. */
  storageIdleTimeoutMs?: number
}

export interface Testbed {
  /** `127.0.0.1:PORT`: the registry part of a reference. */
  registry: string
  /** `http://127.0.0.1:PORT` (https with `tls`) */
  url: string
  /** The storage host blob reads are redirected to. */
  storageUrl: string
  /** The CA that signed the bed's certificates (with `tls`): for NODE_EXTRA_CA_CERTS. */
  caFile?: string
  /** The token endpoint the registry's challenge names. */
  realm: string
  /** The token audience, as in `service=` of the challenge. */
  service: string
  users: Record<string, string>
  /** Marks a repository (`alice/x`) public: anonymous tokens then carry pull on it. */
  setPublic(repository: string, isPublic?: boolean): void
  tokenRequests: TokenRequest[]
  storageRequests: StorageRequest[]
  /** Makes the next blob downloads from the storage host fail, one fault per GET, in order. */
  failStorage(...faults: StorageFault[]): void
  /** The registry's filesystem storage root, to corrupt or remove blobs in tests. */
  storageDir: string
  /** Where the registry keeps a blob's bytes. */
  blobPath(digest: string): string
  /** The registry's log (stdout and stderr), worth reading when a test fails oddly. */
  logFile: string
  stop(): Promise<void>
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = { alice: 'alice-secret', bob: 'bob-secret' }
export const SERVICE = 'testbed-registry'
export const ISSUER = 'testbed-token-service'

// A port freed by freePort() can be taken before the registry binds it; a fresh one fixes that.
const START_ATTEMPTS = 3

/**
 * Starts the registry bed: CNCF Distribution in token mode on 127.0.0.1, a ghcr-like token
 * service, and a storage host on 127.0.0.2 that blob reads are redirected to. Everything lives
 * in one temp dir, removed by stop().
 */
export async function startTestbed(o: TestbedOptions = {}): Promise<Testbed> {
  const users = { ...(o.users ?? DEFAULT_USERS) }
  const dir = await mkdtemp(join(tmpdir(), 'oci-testbed-'))
  const storageDir = join(dir, 'storage')
  const logFile = join(dir, 'registry.log')
  const stoppers: (() => Promise<void>)[] = []
  let stopping: Promise<void> | undefined
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const stop of stoppers.reverse()) await stop().catch(() => {})
      await rm(dir, { recursive: true, force: true })
    })())

  try {
    await mkdir(storageDir)
    const key = await createSigningKey(dir)
    const registryHost = o.network?.nsAddress ?? '127.0.0.1'
    const tokenHost = o.network?.hostAddress ?? '127.0.0.1'
    const storageHost = o.network?.hostAddress ?? '127.0.0.2'
    const certificates = o.tls
      ? await createTestCertificates(dir, [...new Set([registryHost, tokenHost, storageHost, 'localhost'])])
      : undefined
    // Settled, not Promise.all: when one fails to start, the other must still be stopped.
    const [tokensStarted, storageStarted] = await Promise.allSettled([
      startTokenService({
        host: tokenHost,
        service: SERVICE,
        issuer: ISSUER,
        users,
        key,
        ttlSeconds: o.tokenTtlSeconds ?? 300,
        allowDelete: o.allowDelete ?? false,
        tls: certificates,
      }),
      startStorageHost(storageDir, storageHost, certificates, { idleTimeoutMs: o.storageIdleTimeoutMs }),
    ])
    if (tokensStarted.status === 'fulfilled') stoppers.push(tokensStarted.value.stop)
    if (storageStarted.status === 'fulfilled') stoppers.push(storageStarted.value.stop)
    if (tokensStarted.status === 'rejected') throw tokensStarted.reason
    if (storageStarted.status === 'rejected') throw storageStarted.reason
    const tokens = tokensStarted.value
    const storage = storageStarted.value

    const { registry, url } = await startRegistry(
      dir,
      storageDir,
      logFile,
      tokens,
      storage.url,
      key.certificateFile,
      {
        host: registryHost,
        certificates,
        prefix: o.network?.exec,
      },
    )
    stoppers.push(registry.stop)

    return {
      registry: new URL(url).host,
      url,
      caFile: certificates?.caFile,
      storageUrl: storage.url,
      realm: tokens.realm,
      service: SERVICE,
      users,
      setPublic: tokens.setPublic,
      tokenRequests: tokens.requests,
      storageRequests: storage.requests,
      failStorage: storage.failNext,
      storageDir,
      blobPath: (digest) => blobPath(storageDir, digest),
      logFile,
      stop: stopAll,
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

async function startRegistry(
  dir: string,
  storageDir: string,
  logFile: string,
  tokens: TokenService,
  storageBaseUrl: string,
  rootCertBundle: string,
  o: { host: string; certificates?: TestCertificates; prefix?: string[] },
): Promise<{ registry: RegistryProcess; url: string }> {
  const configFile = join(dir, 'registry.json')
  for (let attempt = 1; ; attempt++) {
    // a port free here is as good a guess as any inside the namespace, which starts empty
    const address = `${o.host}:${await freePort()}`
    const config = registryConfig({
      storageDir,
      address,
      realm: tokens.realm,
      service: SERVICE,
      issuer: ISSUER,
      rootCertBundle,
      storageBaseUrl,
      secret: randomBytes(16).toString('hex'),
      tls: o.certificates && { certificate: o.certificates.certFile, key: o.certificates.keyFile },
    })
    await writeFile(configFile, config)
    try {
      const url = `${o.certificates ? 'https' : 'http'}://${address}`
      const started = await startRegistryProcess(configFile, logFile, url, dir, {
        prefix: o.prefix,
        ca: o.certificates && (await readFile(o.certificates.caFile)),
      })
      return { registry: started, url }
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error
    }
  }
}

/** Distribution's filesystem layout: blobs/<algorithm>/<first two hex>/<hex>/data. */
export function blobPath(storageDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':')
  if (!algorithm || !hex || !/^[a-f0-9]{32,}$/.test(hex))
    throw new Error(`not a digest: ${JSON.stringify(digest)}`)
  return join(storageDir, 'docker/registry/v2/blobs', algorithm, hex.slice(0, 2), hex, 'data')
}
