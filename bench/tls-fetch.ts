import { readFileSync } from 'node:fs'
import { Agent, fetch as undiciFetch } from 'undici'

const trusting = new Map<string, typeof fetch>()

/**
 * A fetch that trusts the bed's throwaway CA as well as the system's: NODE_EXTRA_CA_CERTS is read
 * once, when Node starts, and the harness is running before the bed's CA exists. Plain fetch
 * without a CA file (the loopback bed is http).
 */
export function fetchTrusting(caFile: string | undefined): typeof fetch {
  if (!caFile) return fetch
  let send = trusting.get(caFile)
  if (!send) {
    const dispatcher = new Agent({ connect: { ca: readFileSync(caFile) } })
    send = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
      undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch
    trusting.set(caFile, send)
  }
  return send
}
