import { readFile, writeFile } from 'node:fs/promises'

/** One row of the comparison: a baseline and ours, in the same unit; either may be missing. */
export interface ComparisonRow {
  what: string
  baseline?: number
  ours?: number
  unit: 'ms' | 'bytes'
  /** The target for ours / baseline, shown next to the ratio. */
  target?: number
  note?: string
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024).toFixed(1)} KiB`
}

function formatValue(value: number | undefined, unit: ComparisonRow['unit']): string {
  if (value === undefined) return '-'
  return unit === 'ms' ? formatMs(value) : formatBytes(value)
}

/** ours / baseline, and whether it meets the target (a ratio at or under it). */
function formatRatio(row: ComparisonRow): string {
  if (row.baseline === undefined || row.ours === undefined || row.baseline === 0) return '-'
  const ratio = row.ours / row.baseline
  const text = ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)
  if (row.target === undefined) return text
  return `${text} ${ratio <= row.target ? 'ok' : 'MISSED'}`
}

export function comparisonTable(rows: ComparisonRow[]): string {
  const lines = [
    '| Step | Baseline | Ours | Ours / baseline | Target | Notes |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
  ]
  for (const row of rows) {
    const target = row.target === undefined ? '' : `<= ${row.target}`
    lines.push(
      `| ${row.what} | ${formatValue(row.baseline, row.unit)} | ${formatValue(row.ours, row.unit)} | ` +
        `${formatRatio(row)} | ${target} | ${cell(row.note ?? '')} |`,
    )
  }
  return lines.join('\n')
}

/** A pipe inside a cell, even in a code span, ends the cell in GitHub's tables unless escaped. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|')
}

/** A plain markdown table from a header and rows of cells. */
export function simpleTable(header: string[], rows: string[][]): string {
  const align = header.map((_, i) => (i === 0 ? '---' : '---:'))
  return [header, align, ...rows].map((cells) => `| ${cells.map(cell).join(' | ')} |`).join('\n')
}

/**
 * Replaces what lies between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in the
 * file, adding the section at the end when the markers are not there yet, so prose around the
 * tables is kept across runs.
 */
export async function writeSection(file: string, name: string, content: string): Promise<void> {
  const start = `<!-- bench:${name}:start -->`
  const end = `<!-- bench:${name}:end -->`
  const current = await readFile(file, 'utf8').catch(() => '# Benchmarks\n')
  const block = `${start}\n${content.trim()}\n${end}`
  const from = current.indexOf(start)
  const to = current.indexOf(end)
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + block + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${block}\n`
  await writeFile(file, next)
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
