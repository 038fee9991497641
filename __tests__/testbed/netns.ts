import { execFileSync } from 'node:child_process'

export interface TestNetwork {
  /** The network namespace: `ip netns exec <name> ...` runs a process inside it. */
  name: string
  /** This side of the veth pair (the test process's namespace): not loopback. */
  hostAddress: string
  /** The namespace's side: a registry there is a non-loopback host to us. */
  nsAddress: string
  /** The command prefix that runs a program inside the namespace. */
  exec: string[]
  /** The shaping on both ends of the pair, when asked for. */
  shape?: LinkShape
  remove(): void
}

/**
 * A token bucket (`tc qdisc ... tbf`) on both ends of the veth pair, so each direction is held to
 * `rate`: tbf shapes what a device sends, and each end sends one direction. Values in tc's units.
 */
export interface LinkShape {
  /** `400mbit` */
  rate: string
  /** The bucket: bytes that may leave at line speed (`256kb`); at least rate / HZ for tbf to reach its rate. */
  burst: string
  /** The longest a packet may wait in the queue (`20ms`): the queue's length, in time. */
  latency: string
}

export interface TestNetworkOptions {
  /** Starts every name (namespace, devices): distinct per user so concurrent runs never collide. Default `ocihs`. */
  prefix?: string
  /** The second octet of the 10.X.0.0/16 the pairs' /30s come from. Default 213. */
  subnet?: number
  shape?: LinkShape
}

let created = 0

/**
 * A network namespace joined to ours by a veth pair with a /30 of 10.213.0.0/16 that only these
 * two ends use, so a test host is reachable at an address that is not loopback (the proxy rules,
 * TLS names, plain-http opt-in all treat loopback specially). Needs root (CI runs as root). Names
 * start with `ocihs` and carry the pid; each is removed by remove(), and on process exit. With
 * `shape`, the pair is a shaped link (the benchmark's, bench/link.ts).
 */
export function createTestNetwork(o: TestNetworkOptions = {}): TestNetwork {
  const tag = o.prefix ?? 'ocihs'
  const subnet = o.subnet ?? 213
  const n = created++
  const id = (process.pid % 100_000) * 4 + (n % 4)
  const name = `${tag}-${process.pid}-${n}`
  // device names: at most 15 characters (IFNAMSIZ), hence no dashes
  const outer = `${tag}${id}a`
  const inner = `${tag}${id}b`
  // a /30 per (pid, n): 14 bits of the id pick one of the 16384 /30s of 10.X.0.0/16
  const slot = id % 16_384
  const prefix = `10.${subnet}.${slot >> 6}.${(slot & 63) * 4}`.split('.').map(Number)
  const address = (k: number) => `${prefix.slice(0, 3).join('.')}.${prefix[3]! + k}`
  const hostAddress = address(1)
  const nsAddress = address(2)

  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const quietly = (...args: string[]) => {
    try {
      ip(...args)
    } catch {
      // already gone
    }
  }
  let removed = false
  const remove = () => {
    if (removed) return
    removed = true
    process.off('exit', remove)
    quietly('netns', 'del', name)
    quietly('link', 'del', outer)
  }
  // left over from a crashed run with the same pid
  quietly('netns', 'del', name)
  quietly('link', 'del', outer)
  process.on('exit', remove)
  try {
    ip('netns', 'add', name)
    ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner, 'netns', name)
    ip('addr', 'add', `${hostAddress}/30`, 'dev', outer)
    ip('link', 'set', outer, 'up')
    ip('-n', name, 'addr', 'add', `${nsAddress}/30`, 'dev', inner)
    ip('-n', name, 'link', 'set', inner, 'up')
    ip('-n', name, 'link', 'set', 'lo', 'up')
    if (o.shape) {
      const tbf = ['root', 'tbf', 'rate', o.shape.rate, 'burst', o.shape.burst, 'latency', o.shape.latency]
      execFileSync('tc', ['qdisc', 'add', 'dev', outer, ...tbf], { stdio: ['ignore', 'ignore', 'pipe'] })
      execFileSync('tc', ['-n', name, 'qdisc', 'add', 'dev', inner, ...tbf], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
    }
  } catch (error) {
    remove()
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new Error(`cannot create the test network ${name} (root needed): ${stderr || error}`, {
      cause: error,
    })
  }
  return { name, hostAddress, nsAddress, exec: ['ip', 'netns', 'exec', name], shape: o.shape, remove }
}
