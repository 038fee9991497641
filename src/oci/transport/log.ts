import type { Logger } from '../logger.js'
import { redactUrl } from '../redact.js'
import type { Send } from './send.js'

// One debug line per HTTP exchange (never per chunk), with the URL redacted and no headers.
export function withRequestLog(inner: Send, logger: Logger): Send {
  return async (req) => {
    const started = performance.now()
    const url = redactUrl(req.url)
    try {
      const res = await inner(req)
      logger.debug(`${req.method} ${url} -> ${res.status} (${Math.round(performance.now() - started)} ms)`)
      return res
    } catch (error) {
      logger.debug(`${req.method} ${url} -> ${error instanceof Error ? error.message : String(error)}`)
      throw error
    }
  }
}
