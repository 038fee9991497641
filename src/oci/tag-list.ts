import { RegistryError, checkResponse } from './errors.js'
import { readBody } from './response-body.js'
import type { Send } from './transport/send.js'

// A page of tag names; ghcr.io and Distribution send at most 1000 names a page (~100 KiB).
const PAGE_BYTES = 4 * 1024 * 1024
// Guards against a registry whose Link never ends: a million tags is past any real repository.
const MAX_PAGES = 10_000

// All tags of a repository, following `Link: <...>; rel="next"` pages. A repository that does not
// exist yet has no tags.
export async function listTags(send: Send, tagsUrl: string, pageSize?: number): Promise<string[]> {
  const first = new URL(tagsUrl)
  if (pageSize !== undefined) first.searchParams.set('n', String(pageSize))
  const tags: string[] = []
  const seen = new Set<string>()
  let url: string | undefined = first.toString()
  for (let page = 0; url && page < MAX_PAGES; page++) {
    if (seen.has(url)) break
    seen.add(url)
    const res = await send({ method: 'GET', url, headers: { accept: 'application/json' } })
    if (res.status === 404 && page === 0) {
      const error = await checkResponse(res).catch((e: unknown) => e)
      if (error instanceof RegistryError && (error.codes.length === 0 || error.hasCode('NAME_UNKNOWN')))
        return []
      throw error
    }
    await checkResponse(res, 200)
    const body = JSON.parse(
      (await readBody(res, PAGE_BYTES, { what: 'a tag list page' })).toString('utf8'),
    ) as {
      tags?: unknown
    }
    if (Array.isArray(body.tags)) for (const tag of body.tags) if (typeof tag === 'string') tags.push(tag)
    const next = nextLink(res.headers.get('link'))
    url = next ? new URL(next, url).toString() : undefined
  }
  return tags
}

// RFC 8288: `<url>; rel="next"`, possibly among other links.
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (m && /;\s*rel="?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2] ?? '')) return m[1]
  }
  return undefined
}
