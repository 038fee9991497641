import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { ConnectionError } from '../../../src/oci/errors.js'
import { silentLogger } from '../../../src/oci/logger.js'
import { createTransport } from '../../../src/oci/transport/client.js'

// A real TLS server on loopback with a throwaway self-signed certificate: what a registry with a
// private CA looks like to a client that was not given the CA.
let dir: string
let server: Server
let handshakes = 0
let url: string
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'http-auth-tls-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  server = createServer({
    key: readFileSync(path.join(dir, 'key.pem')),
    cert: readFileSync(path.join(dir, 'cert.pem')),
  })
  server.on('connection', () => handshakes++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v2/`
})
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

test('a certificate the client does not trust fails at once, naming the host and the cause', async () => {
  const slept: number[] = []
  const send = createTransport({
    registry: new URL(url).host,
    scopes: [],
    logger: silentLogger,
    retry: { sleep: async (ms) => void slept.push(ms) },
  })
  const error = (await send({ method: 'GET', url, headers: {} }).catch((e: unknown) => e)) as ConnectionError
  expect(error).toBeInstanceOf(ConnectionError)
  expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT')
  expect(error.message).toMatch(
    new RegExp(
      `cannot reach ${new URL(url).host}: its TLS certificate was refused: .*DEPTH_ZERO_SELF_SIGNED_CERT`,
    ),
  )
  expect(slept).toEqual([])
  expect(handshakes).toBe(1)
})
