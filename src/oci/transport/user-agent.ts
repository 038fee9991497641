import type { Send } from './send.js'

export const DEFAULT_USER_AGENT = `oci-artifact-action (node ${process.versions.node})`

export function withUserAgent(inner: Send, userAgent = DEFAULT_USER_AGENT): Send {
  return (req) => inner({ ...req, headers: { ...req.headers, 'user-agent': userAgent } })
}
