import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createTestNetwork, type LinkShape, type TestNetwork } from '../__tests__/testbed/netns.js'
import { downloadWithCurl, uploadWithCurl } from './baseline.js'
import type { BenchContext } from './bench-context.js'

/**
 * The shaped link of `npm run bench -- --link 400mbit`: a network namespace joined to ours by a
 * veth pair with a token bucket (tc tbf) on both ends, so each direction is held to the rate.
 * The whole bed (registry, token service, storage host) runs inside it over https; the action and
 * every baseline run out here, so every byte they send or fetch crosses the link. tbf, not netem:
 * this kernel has no netem, so the link adds no delay of its own beyond its queue.
 */

/** Names and addresses of our own: the tests' namespaces are `ocihs-`, in 10.213.0.0/16. */
const PREFIX = 'ocilb'
const SUBNET = 214

/** tbf's queue, in time: what a packet may wait before it is dropped (a shallow router buffer). */
const LATENCY = '20ms'

/** Bits per second of a tc rate (`400mbit`, `1gbit`, `50mbit`). */
export function parseRate(rate: string): number {
  const match = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/i.exec(rate.trim())
  if (!match) throw new Error(`--link wants a rate such as 400mbit, not ${JSON.stringify(rate)}`)
  const scale = { kbit: 1e3, mbit: 1e6, gbit: 1e9 }[match[2]!.toLowerCase() as 'kbit' | 'mbit' | 'gbit']
  return Number(match[1]) * scale
}

/**
 * The bucket holds 5 ms of the rate, and never less than 64 KiB, one GSO segment of the veth:
 * tbf needs at least rate / HZ (4 ms at HZ=250) to reach its rate at all.
 */
export function linkShape(rate: string): LinkShape {
  const bytesPerSecond = parseRate(rate) / 8
  const burst = Math.max(64 * 1024, Math.ceil(bytesPerSecond / 200))
  return { rate: rate.toLowerCase(), burst: `${burst}b`, latency: LATENCY }
}

/** The namespace and its shaped veth pair, removed on exit (netns.ts), SIGINT included (run.ts). */
export function createLink(rate: string): TestNetwork {
  return createTestNetwork({ prefix: PREFIX, subnet: SUBNET, shape: linkShape(rate) })
}

/** The link in a sentence, for the report. */
export function describeLink(link: TestNetwork): string {
  const shape = link.shape!
  const mtu = interfaceMtu(link)
  return (
    `in a network namespace behind a veth pair shaped by \`tc qdisc ... tbf rate ${shape.rate} ` +
    `burst ${shape.burst} latency ${shape.latency}\` on both ends (MTU ${mtu}), over https with a ` +
    'throwaway CA (NODE_EXTRA_CA_CERTS for ours and actions/cache, --cert-dir for skopeo, --cacert for curl)'
  )
}

/** The namespace's end of the pair: both ends have the same MTU, the veth default unless set. */
function interfaceMtu(link: TestNetwork): string {
  try {
    const out = execFileSync('ip', ['-n', link.name, '-o', 'link', 'show', 'type', 'veth'], {
      encoding: 'utf8',
    })
    return /\bmtu (\d+)/.exec(out)?.[1] ?? '?'
  } catch {
    return '?'
  }
}

export interface WireSpeed {
  bytes: number
  /** MB/s (10^6 bytes a second), as link rates are decimal. */
  upload: number
  download: number
}

// Big enough that the TLS handshake and the token exchange are lost in the transfer.
const WIRE_CHECK_BYTES = 128 * 1024 * 1024

/**
 * What the link carries, measured: one incompressible blob up with curl (one PUT) and down with
 * curl through the registry's redirect to the storage host, both over TLS. At 400 Mbit/s the
 * ceiling is 50 MB/s less TCP/IP headers (1448 of every 1500 bytes at MTU 1500: 48.3 MB/s).
 */
export async function measureWire(ctx: BenchContext): Promise<WireSpeed> {
  const dir = await ctx.scratch('wire-check')
  const file = join(dir, 'blob')
  const hash = createHash('sha256')
  const handle = await open(file, 'w')
  for (let written = 0; written < WIRE_CHECK_BYTES; written += 1024 * 1024) {
    const chunk = randomBytes(1024 * 1024)
    hash.update(chunk)
    await handle.write(chunk)
  }
  await handle.close()
  const digest = `sha256:${hash.digest('hex')}`
  const target = ctx.target('wire-check')
  const up = await uploadWithCurl(target, file, digest)
  await rm(file)
  const down = await downloadWithCurl(target, digest, '/dev/null', '%{speed_download}')
  const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000)
  return {
    bytes: WIRE_CHECK_BYTES,
    // the upload's wall time includes curl's start and the handshake: a floor on the speed
    upload: mbps(WIRE_CHECK_BYTES, up.wallMs),
    download: Number(down.stdout.trim()) / 1e6,
  }
}
