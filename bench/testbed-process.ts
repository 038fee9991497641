import { startTestbed } from '../__tests__/testbed/index.js'

/**
 * The test bed in a process of its own, for the benchmark (see testbed-client.ts for why). Prints
 * the registry's address and the users as one JSON line, then serves until its stdin closes: the
 * benchmark ending, or dying, stops the bed.
 */
const bed = await startTestbed({ tokenTtlSeconds: Number(process.argv[2] ?? 300) })
process.stdout.write(`${JSON.stringify({ registry: bed.registry, users: bed.users })}\n`)
process.stdin.resume()
process.stdin.once('end', () => void bed.stop().finally(() => process.exit(0)))
