// Sizes as people write them in a workflow: `4GiB`, `500MB`, `1.5 GiB`, `1048576`. Units are
// case-insensitive; KB/MB/GB are powers of 1000 and KiB/MiB/GiB of 1024, as the SI and IEC say.
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
}

/** The bytes `text` names, or undefined when it is not a size. */
export function parseByteSize(text: string): number | undefined {
  const match = /^([0-9]+(?:\.[0-9]+)?)\s*([a-z]*)$/i.exec(text.trim())
  if (!match) return undefined
  const unit = UNITS[(match[2] as string).toLowerCase()]
  if (unit === undefined) return undefined
  return Math.floor(Number(match[1]) * unit)
}
