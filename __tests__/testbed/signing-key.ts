import { execFile } from 'node:child_process'
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface Access {
  type: string
  name: string
  actions: string[]
}

export interface SigningKey {
  /** PEM certificate: the registry's `rootcertbundle` trusts tokens signed by this key. */
  certificateFile: string
  signToken(claims: {
    issuer: string
    subject: string
    audience: string
    ttlSeconds: number
    access: Access[]
  }): string
}

/**
 * A throwaway P-256 key and self-signed certificate made by openssl (Node cannot issue X.509
 * certificates itself). ES256 because an EC key is made in milliseconds and Distribution 2.8
 * verifies it through the certificate chain in the JWT header's `x5c`.
 */
export async function createSigningKey(dir: string): Promise<SigningKey> {
  const keyFile = join(dir, 'token-key.pem')
  const certificateFile = join(dir, 'token-cert.pem')
  // ECDSA P-256 plus x509 with one day of validity: the bed lives for one test file.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certificateFile,
    '-days',
    '1',
    '-subj',
    '/CN=testbed-token-issuer',
  ])
  const key: KeyObject = createPrivateKey(await readFile(keyFile))
  const certificate = new X509Certificate(await readFile(certificateFile))
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certificate.raw.toString('base64')] }
  const encodedHeader = base64url(JSON.stringify(header))

  return {
    certificateFile,
    signToken({ issuer, subject, audience, ttlSeconds, access }) {
      const now = Math.floor(Date.now() / 1000)
      // nbf a little in the past: the registry and this process read the same clock, but a token
      // minted in the same second it is used must not look early.
      const claims = {
        iss: issuer,
        sub: subject,
        aud: audience,
        exp: now + ttlSeconds,
        nbf: now - 5,
        iat: now,
        jti: randomUUID(),
        access,
      }
      const signingInput = `${encodedHeader}.${base64url(JSON.stringify(claims))}`
      // JWS wants the raw r||s signature, not the DER that Node produces by default.
      const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' })
      return `${signingInput}.${signature.toString('base64url')}`
    },
  }
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url')
}
