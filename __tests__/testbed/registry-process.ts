import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface RegistryProcess {
  pid: number
  stop(): Promise<void>
}

// Distribution starts in ~20 ms here; the margin covers a loaded CI machine.
const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 3_000
const PROBE_TIMEOUT_MS = 1_000

/**
 * Runs `docker-registry serve CONFIG` with its output in `logFile` and resolves once GET /v2/
 * answers the Bearer challenge. A failed start kills the process and throws with the log's tail.
 * A watchdog shell kills the registry if this process dies without calling stop() (a crashed jest
 * worker), so no registry outlives its test run.
 */
export async function startRegistryProcess(
  configFile: string,
  logFile: string,
  url: string,
  /** Removed by the watchdog too, so a crashed run leaves no temp dir behind either. */
  orphanDir?: string,
  o: { prefix?: string[]; ca?: Buffer } = {},
): Promise<RegistryProcess> {
  const log = openSync(logFile, 'a')
  // `ip netns exec NAME` execs the registry in place: the child's pid is the registry's
  const [command, ...args] = [...(o.prefix ?? []), 'docker-registry', 'serve', configFile]
  const child = spawn(command!, args, { stdio: ['ignore', log, log] })
  closeSync(log)
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
    child.once('error', (error) => resolve(error.message))
  })
  const watchdog = startWatchdog(child, orphanDir)

  const stop = async (): Promise<void> => {
    watchdog.kill('SIGKILL')
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
      await exited
      clearTimeout(timer)
    }
  }

  // Aborted once the race is decided: a probe must not outlive it (a hung one keeps jest alive).
  const probing = new AbortController()
  const ready = await Promise.race([
    waitForChallenge(url, probing.signal, o.ca),
    exited.then((status) => `exited (${status})`),
  ]).finally(() => probing.abort())
  if (ready !== true) {
    await stop()
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n')
    throw new Error(`docker-registry did not start at ${url}: ${ready}\n--- ${logFile} (tail) ---\n${tail}`)
  }
  return { pid: child.pid ?? 0, stop }
}

/** True once GET /v2/ answers 401 with a Bearer challenge; a string saying why it never did. */
async function waitForChallenge(url: string, signal: AbortSignal, ca?: Buffer): Promise<true | string> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  let last = 'no answer'
  while (Date.now() < deadline && !signal.aborted) {
    try {
      // Something else may hold the port and never answer: each probe gets a short deadline.
      const res = await probe(
        `${url}/v2/`,
        AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
        ca,
      )
      if (res.status === 401 && res.challenge.startsWith('Bearer ')) return true
      last = `GET /v2/ answered ${res.status} ${res.challenge}`
    } catch (error) {
      last = `GET /v2/ failed: ${(error as Error).message}`
    }
    await sleep(10)
  }
  return signal.aborted ? 'gave up' : `not ready after ${READY_TIMEOUT_MS} ms (${last})`
}

// node:http(s) rather than fetch: an https bed is trusted through its own CA, given here.
function probe(
  url: string,
  signal: AbortSignal,
  ca?: Buffer,
): Promise<{ status: number; challenge: string }> {
  return new Promise((resolve, reject) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet
    const req = get(url, { signal, ca, agent: false }, (res) => {
      res.resume()
      resolve({ status: res.statusCode ?? 0, challenge: String(res.headers['www-authenticate'] ?? '') })
    })
    req.once('error', reject)
  })
}

/**
 * A shell that blocks reading a pipe from us and, when the pipe closes (the kernel closes it when
 * this process dies, however it dies), kills the registry and removes the bed's temp dir. Unreferenced, so it never keeps a test
 * run alive.
 */
function startWatchdog(child: ChildProcess, orphanDir = ''): ChildProcess {
  const script = 'read -r _; kill "$0" 2>/dev/null; sleep 0.2; [ -z "$1" ] || rm -rf "$1"'
  const watchdog = spawn('sh', ['-c', script, String(child.pid), orphanDir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  watchdog.unref()
  // A child's stdin pipe is a net.Socket at runtime, though typed as a plain Writable.
  ;(watchdog.stdin as Socket | null)?.unref()
  watchdog.stdin?.on('error', () => {})
  return watchdog
}
