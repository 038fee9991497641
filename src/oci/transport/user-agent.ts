import type { Send } from './send.js'

// The caller names itself (src/action/ passes the action's name and ref); without a name, requests
// carry the HTTP client's own.
export function withUserAgent(inner: Send, userAgent?: string): Send {
  if (!userAgent) return inner
  return (req) => inner({ ...req, headers: { ...req.headers, 'user-agent': userAgent } })
}
