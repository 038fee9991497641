export class ResponseTooLargeError extends Error {
  constructor(
    readonly limit: number,
    what: string,
  ) {
    super(`${what} is larger than ${limit} bytes`)
    this.name = 'ResponseTooLargeError'
  }
}

// Reads at most `limit` bytes of a response body and cancels the rest, so a hostile or broken
// server cannot make us buffer without bound. `truncate` keeps the first bytes instead of failing.
export async function readBody(
  res: Response,
  limit: number,
  o: { truncate?: boolean; what?: string } = {},
): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (!o.truncate && declared > limit) {
    await res.body?.cancel().catch(() => {})
    throw new ResponseTooLargeError(limit, o.what ?? 'the response')
  }
  if (!res.body) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  let size = 0
  const reader = res.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) {
        if (!o.truncate) throw new ResponseTooLargeError(limit, o.what ?? 'the response')
        chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength - (size - limit)))
        break
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength))
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks)
}

// Lets a connection go back to the pool when we do not care what the body says.
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {})
}
