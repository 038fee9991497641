import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../helpers/run-action.js'
import {
  createTestNetwork,
  startForwardProxy,
  startTestbed,
  type ForwardProxy,
  type TestNetwork,
  type Testbed,
} from '../testbed/index.js'

// Where self-hosted runners live: a registry that is not on loopback, over TLS from a private CA,
// behind a corporate forward proxy, or on plain http by choice. The beds sit in network
// namespaces this file creates (root needed, as in CI); the proxy is Debian's tinyproxy.

let tlsNet: TestNetwork
let plainNet: TestNetwork
let tlsBed: Testbed
let plainBed: Testbed
let loopbackBed: Testbed
let proxy: ForwardProxy
let work: string

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-network-'))
  tlsNet = createTestNetwork()
  plainNet = createTestNetwork()
  ;[tlsBed, plainBed, loopbackBed, proxy] = await Promise.all([
    startTestbed({ tls: true, network: tlsNet }),
    startTestbed({ network: plainNet }),
    startTestbed(),
    startForwardProxy(),
  ])
})
afterAll(async () => {
  await Promise.all([tlsBed?.stop(), plainBed?.stop(), loopbackBed?.stop(), proxy?.stop()])
  tlsNet?.remove()
  plainNet?.remove()
  rmSync(work, { recursive: true, force: true })
})

// No proxy from the machine running the tests: each test says which it means.
const NO_PROXY_ENV = {
  HTTPS_PROXY: '',
  https_proxy: '',
  HTTP_PROXY: '',
  http_proxy: '',
  NO_PROXY: '',
  no_proxy: '',
}
const DEAD_PROXY = 'http://127.0.0.1:9'

let trees = 0
function makeTree(): string {
  const dir = path.join(work, `tree-${trees++}`)
  mkdirSync(path.join(dir, 'bin'), { recursive: true })
  writeFileSync(path.join(dir, 'bin', 'tool'), `#!/bin/sh\necho ${trees}\n`, { mode: 0o755 })
  writeFileSync(path.join(dir, 'notes.txt'), 'built on a self-hosted runner\n')
  return dir
}

async function pushAndPull(bed: Testbed, name: string, env: Record<string, string>, extra = {}) {
  const src = makeTree()
  const repository = `${bed.registry}/alice/${name}`
  const creds = { username: 'alice', token: bed.users.alice as string }
  const push = await runAction({ inputs: { path: src, repository, tag: 'v1', ...creds, ...extra }, env })
  expect(push.annotations).toEqual([])
  expect(push.code).toBe(0)
  const out = path.join(work, `${name}-out`)
  const pull = await runAction({
    inputs: { mode: 'pull', path: out, repository, tag: 'v1', ...creds, ...extra },
    env,
  })
  expect(pull.code).toBe(0)
  expect(pull.outputs.digest).toBe(push.outputs.digest)
  execFileSync('diff', ['-r', src, out])
  return { push, pull }
}

describe('TLS with a private CA', () => {
  test('a registry, token service and storage host on a private CA work through NODE_EXTRA_CA_CERTS', async () => {
    expect(tlsBed.url).toMatch(/^https:\/\/10\./)
    await pushAndPull(tlsBed, 'private-ca', { ...NO_PROXY_ENV, NODE_EXTRA_CA_CERTS: tlsBed.caFile! })
    // the download went to the storage host, over https
    expect(tlsBed.storageRequests.some((r) => r.method === 'GET')).toBe(true)
  })

  test('without the CA, the certificate error names the host and fails at once', async () => {
    const started = Date.now()
    const push = await runAction({
      inputs: {
        path: makeTree(),
        repository: `${tlsBed.registry}/alice/untrusted`,
        username: 'alice',
        token: 'x',
      },
      env: NO_PROXY_ENV,
    })
    expect(push.code).not.toBe(0)
    const error = push.annotations.find((a) => a.level === 'error')?.message ?? ''
    expect(error).toContain(tlsBed.registry)
    expect(error).toMatch(/certificate/i)
    // no retries: five tries would wait 0.5 + 1 + 2 + 4 s between them
    expect(Date.now() - started).toBeLessThan(6000)
  })
})

describe('a forward proxy', () => {
  test('HTTPS_PROXY with credentials: every host (registry, token service, storage) is reached by CONNECT', async () => {
    const before = proxy.connects().length
    const { push, pull } = await pushAndPull(tlsBed, 'proxied', {
      ...NO_PROXY_ENV,
      HTTPS_PROXY: proxy.url,
      NODE_EXTRA_CA_CERTS: tlsBed.caFile!,
    })
    const tunnels = new Set(proxy.connects().slice(before))
    expect(tlsBed.url).toMatch(/^https:\/\/10\./)
    expect(tunnels).toContain(tlsBed.registry)
    expect(tunnels).toContain(new URL(tlsBed.realm).host)
    expect(tunnels).toContain(new URL(tlsBed.storageUrl).host)
    // the proxy's password is never printed
    const secret = decodeURIComponent(new URL(proxy.url).password)
    for (const run of [push, pull]) expect(run.stdout + run.stderr).not.toContain(secret)
  })

  test('the credentials in the proxy URL are what lets the tunnel through', async () => {
    const anonymous = new URL(proxy.url)
    anonymous.username = ''
    anonymous.password = ''
    const push = await runAction({
      inputs: { path: makeTree(), repository: `${tlsBed.registry}/alice/no-proxy-creds`, token: '' },
      env: { ...NO_PROXY_ENV, HTTPS_PROXY: anonymous.href, NODE_EXTRA_CA_CERTS: tlsBed.caFile! },
    })
    expect(push.code).not.toBe(0)
    expect(push.annotations.find((a) => a.level === 'error')?.message).toMatch(/407|proxy/i)
  })

  test('lower-case https_proxy wins over HTTPS_PROXY, as the runner reads them', async () => {
    const before = proxy.connects().length
    await pushAndPull(tlsBed, 'lower-case', {
      ...NO_PROXY_ENV,
      https_proxy: proxy.url,
      HTTPS_PROXY: DEAD_PROXY,
      NODE_EXTRA_CA_CERTS: tlsBed.caFile!,
    })
    expect(proxy.connects().length).toBeGreaterThan(before)
  })

  test('NO_PROXY sends the hosts it names direct', async () => {
    const before = proxy.connects().length
    await pushAndPull(tlsBed, 'no-proxy', {
      ...NO_PROXY_ENV,
      HTTPS_PROXY: DEAD_PROXY,
      NO_PROXY: `example.invalid, ${tlsNet.nsAddress},${tlsNet.hostAddress}`,
      NODE_EXTRA_CA_CERTS: tlsBed.caFile!,
    })
    expect(proxy.connects().length).toBe(before)
  })

  test('a proxy that is down fails the step, naming it: the proxy is not bypassed', async () => {
    const push = await runAction({
      inputs: { path: makeTree(), repository: `${tlsBed.registry}/alice/dead-proxy`, token: '' },
      env: { ...NO_PROXY_ENV, HTTPS_PROXY: DEAD_PROXY, NODE_EXTRA_CA_CERTS: tlsBed.caFile! },
    })
    expect(push.code).not.toBe(0)
    expect(push.annotations.find((a) => a.level === 'error')?.message).toMatch(/ECONNREFUSED|127\.0\.0\.1:9/)
  })

  test('a loopback registry is always reached direct', async () => {
    await pushAndPull(loopbackBed, 'loopback', {
      ...NO_PROXY_ENV,
      HTTPS_PROXY: DEAD_PROXY,
      HTTP_PROXY: DEAD_PROXY,
    })
  })
})

describe('plain-http', () => {
  test('plain-http: true pushes to and pulls from a registry on the network over http', async () => {
    expect(plainBed.url).toMatch(/^http:\/\/10\./)
    await pushAndPull(plainBed, 'plain', NO_PROXY_ENV, { 'plain-http': true })
  })

  test('without it, a non-loopback registry is https only, and an http one fails at once naming the host', async () => {
    const started = Date.now()
    const push = await runAction({
      inputs: { path: makeTree(), repository: `${plainBed.registry}/alice/plain-refused`, token: '' },
      env: NO_PROXY_ENV,
    })
    expect(push.code).not.toBe(0)
    const error = push.annotations.find((a) => a.level === 'error')?.message ?? ''
    expect(error).toContain(`https://${plainBed.registry}`)
    expect(error).toContain('plain-http')
    expect(Date.now() - started).toBeLessThan(6000)
  })
})

describe('a registry name that does not resolve', () => {
  test('fails at once, naming the host, without retries', async () => {
    const started = Date.now()
    const push = await runAction({
      inputs: { path: makeTree(), repository: 'registry.example.invalid/alice/nowhere', token: '' },
      env: NO_PROXY_ENV,
    })
    expect(push.code).not.toBe(0)
    const error = push.annotations.find((a) => a.level === 'error')?.message ?? ''
    expect(error).toContain('registry.example.invalid')
    expect(error).toMatch(/does not resolve/)
    expect(error).not.toMatch(/after \d+ tries/)
    // five tries would wait 0.5 + 1 + 2 + 4 s between them
    expect(Date.now() - started).toBeLessThan(6000)
  })
})
