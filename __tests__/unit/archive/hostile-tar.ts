// Builds tar archives by hand with node-tar's Header encoder, so the tests can say exactly what a
// hostile archive holds (traversals, links, devices) without any tool sanitising it first.
import { Header, Pax, type HeaderData } from 'tar'

export interface RawEntry {
  path: string
  type?: HeaderData['type']
  linkpath?: string
  body?: string | Buffer
  // a size field that disagrees with the body, for smuggling cases
  size?: number
  mode?: number
  pax?: Record<string, string>
  mtime?: Date
}

export function rawTar(entries: RawEntry[], { end = true }: { end?: boolean } = {}): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    if (e.pax) {
      blocks.push(new Pax({ ...e.pax } as HeaderData).encode())
    }
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body)
    const block = Buffer.alloc(512)
    new Header({
      path: e.path,
      type: e.type ?? 'File',
      linkpath: e.linkpath,
      size: e.size ?? body.length,
      mode: e.mode ?? (e.type === 'Directory' ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      mtime: e.mtime ?? new Date(0),
    }).encode(block, 0)
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  }
  if (end) blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}
