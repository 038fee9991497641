import { startTestbed, type TestNetwork } from '../__tests__/testbed/index.js'

/**
 * The test bed in a process of its own, for the benchmark (see testbed-client.ts for why). Prints
 * the registry's address, the users and (over TLS) the CA as one JSON line, then serves until its
 * stdin closes: the benchmark ending, or dying, stops the bed.
 *
 * `testbed-process.js TTL [ADDRESS]`: with an address, the process runs inside the shaped link's
 * namespace (bench/link.ts starts it there) and the registry, the token service and the storage
 * host all listen on ADDRESS, over https, so every byte a client sends or fetches crosses the link.
 * The bed's `network` option is given that address for both of its ends and no command prefix:
 * this process is already inside.
 */
const [ttl, address] = process.argv.slice(2)
const inside: TestNetwork | undefined = address
  ? { name: '', hostAddress: address, nsAddress: address, exec: [], remove: () => {} }
  : undefined
const bed = await startTestbed({ tokenTtlSeconds: Number(ttl ?? 300), tls: Boolean(inside), network: inside })
process.stdout.write(`${JSON.stringify({ registry: bed.registry, users: bed.users, caFile: bed.caFile })}\n`)
process.stdin.resume()
process.stdin.once('end', () => void bed.stop().finally(() => process.exit(0)))
