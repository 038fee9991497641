import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface TestCertificates {
  /** The throwaway CA's certificate: what NODE_EXTRA_CA_CERTS names to trust the bed. */
  caFile: string
  /** One server certificate for every host of the bed (registry, token service, storage). */
  certFile: string
  keyFile: string
  cert: Buffer
  key: Buffer
}

/**
 * A CA made for one bed by openssl (Node cannot issue certificates) and a server certificate it
 * signs for `hosts` (IP addresses or names, as subjectAltName: Go and Node both want SANs).
 * P-256 keys: made in milliseconds. One day of validity: the bed lives for one test file.
 */
export async function createTestCertificates(dir: string, hosts: string[]): Promise<TestCertificates> {
  const caKey = join(dir, 'ca-key.pem')
  const caFile = join(dir, 'ca.pem')
  const keyFile = join(dir, 'server-key.pem')
  const csr = join(dir, 'server.csr')
  const certFile = join(dir, 'server.pem')
  const extFile = join(dir, 'server.ext')
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await run('openssl', [
    'req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '1', '-subj', '/CN=ocihs testbed CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]) // prettier-ignore
  await run('openssl', ['req', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=ocihs testbed'])
  const names = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
  await writeFile(
    extFile,
    `subjectAltName=${names}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`,
  )
  await run('openssl', [
    'x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile,
    '-days', '1', '-extfile', extFile,
  ]) // prettier-ignore
  const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)])
  return { caFile, certFile, keyFile, cert, key }
}
