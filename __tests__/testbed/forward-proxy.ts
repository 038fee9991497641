import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './listen.js'

export interface ForwardProxy {
  /** `http://user:secret@127.0.0.1:PORT`: what HTTPS_PROXY holds. */
  url: string
  /** The proxy's log so far: one `Request ... CONNECT host:port` line per tunnel. */
  log(): string
  /** The `host:port`s tunnelled to so far. */
  connects(): string[]
  stop(): Promise<void>
}

/**
 * tinyproxy from Debian on a free loopback port, as a corporate forward proxy: Basic credentials
 * required, CONNECT for https, plain forwarding for http. In the foreground, logging to us.
 */
export async function startForwardProxy(o: { user?: string; secret?: string } = {}): Promise<ForwardProxy> {
  const user = o.user ?? 'proxyuser'
  const secret = o.secret ?? 'proxy-secret'
  const dir = await mkdtemp(join(tmpdir(), 'ocihs-proxy-'))
  const port = await freePort()
  const conf = join(dir, 'tinyproxy.conf')
  await writeFile(
    conf,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'LogLevel Connect',
      'MaxClients 50',
      'Allow 127.0.0.1',
      `BasicAuth ${user} ${secret}`,
      'DisableViaHeader Yes',
      '',
    ].join('\n'),
  )
  let log = ''
  const child = spawn('tinyproxy', ['-d', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const kill = () => child.kill('SIGKILL')
  process.on('exit', kill)
  const stop = async () => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([exited, sleep(2000).then(kill)])
    }
    await rm(dir, { recursive: true, force: true })
  }
  for (let tries = 0; !(await accepts(port)); tries++) {
    if (tries > 200 || child.exitCode !== null) {
      await stop()
      throw new Error(`tinyproxy did not start on port ${port}:\n${log}`)
    }
    await sleep(10)
  }
  return {
    url: `http://${user}:${secret}@127.0.0.1:${port}`,
    log: () => log,
    connects: () => [...log.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+)/g)].map((m) => m[1]!),
    stop,
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
