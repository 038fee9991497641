// Renders what an action step writes as a person sees it in a GitHub job log, for `npm run demo`:
// workflow commands (`::group::`, `::add-mask::`, `::warning::`, ...) are interpreted instead of
// printed, outputs are listed as later steps read them, and the job summary's markdown is drawn
// as text. Only the commands @actions/core writes are handled; anything else passes as it is.

export interface Style {
  heading(text: string): string
  dim(text: string): string
  warning(text: string): string
  error(text: string): string
}

const plain: Style = { heading: (t) => t, dim: (t) => t, warning: (t) => t, error: (t) => t }

/** ANSI colours when the terminal shows them (and NO_COLOR is not set), else plain text. */
export function terminalStyle(stream: { isTTY?: boolean } = process.stdout): Style {
  if (!stream.isTTY || process.env.NO_COLOR) return plain
  const sgr =
    (on: string) =>
    (t: string): string =>
      `\x1b[${on}m${t}\x1b[0m`
  return { heading: sgr('1'), dim: sgr('2'), warning: sgr('33'), error: sgr('31') }
}

// @actions/core's escaping of command data (toCommandValue / escapeData).
function unescapeData(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

export interface LogOptions {
  /** Show `::debug::` lines, as a re-run with debug logging does. */
  debug?: boolean
  /** Values to mask from the start, as the runner masks secrets it knows. */
  secrets?: string[]
  style?: Style
}

/** A step's stdout as the runner shows it: groups as headings, masks applied, commands hidden. */
export function renderLog(stdout: string, o: LogOptions = {}): string {
  const style = o.style ?? plain
  const masks = [...(o.secrets ?? [])].filter(Boolean)
  const mask = (text: string): string => masks.reduce((t, secret) => t.split(secret).join('***'), text)
  const out: string[] = []
  let indent = ''
  let stoppedUntil: string | undefined
  for (const line of stdout.replace(/\n$/, '').split('\n')) {
    if (stoppedUntil !== undefined) {
      if (line === `::${stoppedUntil}::`) stoppedUntil = undefined
      else out.push(indent + mask(line))
      continue
    }
    const command = /^::([\w-]+)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!command) {
      out.push(indent + mask(line))
      continue
    }
    const [, name, , raw = ''] = command
    const data = mask(unescapeData(raw))
    switch (name) {
      case 'add-mask':
        if (unescapeData(raw)) masks.push(unescapeData(raw))
        break
      case 'group':
        out.push(style.heading(`▼ ${data}`))
        indent = '  '
        break
      case 'endgroup':
        indent = ''
        break
      case 'debug':
        if (o.debug) out.push(indent + style.dim(`##[debug]${data}`))
        break
      case 'warning':
        out.push(indent + style.warning(`Warning: ${data}`))
        break
      case 'error':
        out.push(indent + style.error(`Error: ${data}`))
        break
      case 'notice':
        out.push(indent + `Notice: ${data}`)
        break
      case 'stop-commands':
        stoppedUntil = raw
        break
      case 'echo':
      case 'save-state':
      case 'set-output':
        break
      default:
        out.push(indent + mask(line))
    }
  }
  return out.join('\n')
}

/** The step header the runner prints: `Run owner/action@ref` and its `with:` inputs. */
export function renderStepHeader(
  uses: string,
  inputs: Record<string, string | number | boolean>,
  o: { secrets?: string[]; style?: Style } = {},
): string {
  const style = o.style ?? plain
  const hidden = new Set((o.secrets ?? []).filter(Boolean))
  const lines = Object.entries(inputs).map(([k, v]) => `    ${k}: ${hidden.has(String(v)) ? '***' : v}`)
  return [style.heading(`Run ${uses}`), '  with:', ...lines].join('\n')
}

/** Step outputs as a later step reads them: `steps.<id>.outputs.<name>`. */
export function renderOutputs(id: string, outputs: Record<string, string>, style: Style = plain): string {
  const names = Object.keys(outputs)
  if (names.length === 0) return style.dim(`(no outputs from step ${id})`)
  const width = Math.max(...names.map((n) => `steps.${id}.outputs.${n}`.length))
  return names.map((n) => `${`steps.${id}.outputs.${n}`.padEnd(width)}  ${outputs[n]}`).join('\n')
}

/** Inline markdown as text: code spans, emphasis and links lose their marks, links keep the URL. */
function inline(text: string): string {
  return text
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1 ($2)')
    .replace(/\*\*([^*]+)\*\*/g, '$1')
    .replace(/`([^`]+)`/g, '$1')
    .replace(/\\\|/g, '|')
}

function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => inline(c.trim()))
}

function drawTable(rows: string[][]): string[] {
  const width = (i: number): number => Math.max(...rows.map((r) => [...(r[i] ?? '')].length))
  const columns = Math.max(...rows.map((r) => r.length))
  const widths = Array.from({ length: columns }, (_, i) => width(i))
  return rows.map((r) =>
    widths
      .map((w, i) => (r[i] ?? '').padEnd(w))
      .join('  ')
      .trimEnd(),
  )
}

/** The job summary's markdown drawn as text: headings, tables in columns, code blocks indented. */
export function renderMarkdown(markdown: string, style: Style = plain): string {
  const lines = markdown.replace(/\n+$/, '').split('\n')
  const out: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const fence = /^```/.exec(line)
    if (fence) {
      for (i++; i < lines.length && !/^```/.test(lines[i] ?? ''); i++) out.push(style.dim(`    ${lines[i]}`))
      continue
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line)
    if (heading) {
      const text = inline(heading[2] ?? '')
      out.push(style.heading(text))
      if ((heading[1] ?? '').length <= 2) out.push(style.heading('─'.repeat([...text].length)))
      continue
    }
    if (/^\s*\|/.test(line)) {
      const rows: string[][] = []
      for (; i < lines.length && /^\s*\|/.test(lines[i] ?? ''); i++) {
        const row = cells(lines[i] ?? '')
        const separator = row.every((c) => /^:?-+:?$/.test(c))
        const empty = row.every((c) => c === '')
        if (!separator && !empty) rows.push(row)
      }
      i--
      out.push(...drawTable(rows))
      continue
    }
    out.push(inline(line))
  }
  return out.join('\n')
}
