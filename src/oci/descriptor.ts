import { createHash, webcrypto } from 'node:crypto'

export interface Platform {
  architecture: string
  os: string
  'os.version'?: string
  'os.features'?: string[]
  variant?: string
}

// The currency of the protocol: everything is addressed by what it is, not where it is.
export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  artifactType?: string
  platform?: Platform
  urls?: string[]
  // base64 of the content itself, for tiny blobs such as the empty config
  data?: string
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

// The same digest computed on libuv's pool (WebCrypto), for the megabytes of a chunk that the
// main thread should not hash itself.
export async function sha256DigestOffThread(bytes: Buffer): Promise<string> {
  return `sha256:${Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex')}`
}

export function descriptorOf(bytes: Buffer, mediaType: string): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.length }
}

// The hash algorithm node:crypto knows a digest by; the reference grammar only admits these two.
export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  const algorithm = digest.slice(0, digest.indexOf(':'))
  if (algorithm === 'sha256' || algorithm === 'sha512') return algorithm
  throw new Error(`unsupported digest algorithm in "${digest}"`)
}
