// The tar reader alone, fed the input whole and again cut in two at a point the input's first byte
// picks: both must tell the same story (the same entries, the same bytes, the same verdict), since
// the network hands the reader pieces of any size. Only the archive errors of our own may escape.
import { ArchiveEntryError, ArchiveFormatError } from '../../src/archive/errors.js'
import { TarReader, type TarEntry } from '../../src/archive/tar-reader.js'

type Event = ['entry', TarEntry] | ['data', number] | ['end'] | ['error', string]

function read(pieces: Buffer[]): Event[] {
  const events: Event[] = []
  let open: { size: number; seen: number } | undefined
  const reader = new TarReader({
    entry(entry) {
      if (open) throw new Error(`entry ${JSON.stringify(entry.path)} began inside another`)
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw new Error(`entry size ${entry.size}`)
      if (entry.kind !== 'file' && entry.size !== 0)
        throw new Error(`a ${entry.kind} with ${entry.size} bytes`)
      open = { size: entry.size, seen: 0 }
      events.push(['entry', entry])
    },
    data(chunk) {
      if (!open) throw new Error('data outside an entry')
      open.seen += chunk.length
      const last = events.at(-1)
      if (last?.[0] === 'data') last[1] += chunk.length
      else events.push(['data', chunk.length])
    },
    endEntry() {
      if (!open) throw new Error('endEntry outside an entry')
      if (open.seen !== open.size) throw new Error(`entry of ${open.size} bytes ended after ${open.seen}`)
      open = undefined
      events.push(['end'])
    },
  })
  try {
    for (const piece of pieces) reader.push(piece)
    reader.end()
    if (open) throw new Error('the archive ended inside an entry')
  } catch (error) {
    if (!(error instanceof ArchiveEntryError || error instanceof ArchiveFormatError)) throw error
    events.push(['error', error.message])
  }
  return events
}

export function fuzz(data: Buffer): void {
  if (data.length === 0) return
  const tar = data.subarray(1)
  const cut = Math.floor(((data[0] as number) / 256) * (tar.length + 1))
  const whole = read([tar])
  const split = read([tar.subarray(0, cut), tar.subarray(cut)])
  const a = JSON.stringify(whole)
  const b = JSON.stringify(split)
  if (a !== b) throw new Error(`cut at ${cut}, the reader saw another archive:\n${a}\n${b}`)
}
