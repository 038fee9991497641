// README's workflow snippets are taken from examples/, so that what users copy is a workflow that
// actionlint checks. A snippet is marked by an HTML comment (invisible on GitHub) on the line
// before its fence, naming a region of an example:
//
//   <!-- example: examples/cache.yml#after -->
//   ```yaml
//   ...
//   ```
//
// and the example holds that region between `# region after` and `# endregion after` (the folding
// markers editors know). The snippet must equal the region, dedented; marker lines of other
// regions inside it are left out.

export interface MarkedSnippet {
  file: string
  region: string
  /** 1-based line of the marker in README. */
  line: number
  body: string
}

const MARKER = /^<!-- example: (\S+?)#([\w-]+) -->$/

export function markedSnippets(readme: string): MarkedSnippet[] {
  const lines = readme.split(/\r?\n/)
  const snippets: MarkedSnippet[] = []
  lines.forEach((line, i) => {
    const marker = MARKER.exec(line.trim())
    if (!marker?.[1] || !marker[2]) return
    const fence = /^(`{3,})\w*\s*$/.exec(lines[i + 1] ?? '')
    if (!fence?.[1]) throw new Error(`README.md:${i + 1}: ${line.trim()} is not followed by a fenced block`)
    const end = lines.findIndex((l, j) => j > i + 1 && l.trimEnd() === fence[1])
    if (end < 0) throw new Error(`README.md:${i + 2}: the fenced block never closes`)
    snippets.push({
      file: marker[1],
      region: marker[2],
      line: i + 1,
      body: lines.slice(i + 2, end).join('\n'),
    })
  })
  return snippets
}

const regionLine = (line: string): RegExpExecArray | null => /^\s*# (end)?region ([\w-]+)\s*$/.exec(line)

/** The lines between `# region NAME` and `# endregion NAME`, dedented, without marker lines. */
export function exampleRegion(text: string, region: string): string {
  const lines = text.split(/\r?\n/)
  const start = lines.findIndex((l) => regionLine(l)?.[2] === region && !regionLine(l)?.[1])
  const end = lines.findIndex((l, i) => i > start && regionLine(l)?.[2] === region && !!regionLine(l)?.[1])
  if (start < 0 || end < 0) throw new Error(`no "# region ${region}" ... "# endregion ${region}"`)
  const body = lines.slice(start + 1, end).filter((l) => !regionLine(l))
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0))
  return body
    .map((l) => l.slice(indent))
    .join('\n')
    .replace(/\s+$/, '')
}

/** Each marked snippet that differs from its region (or names a missing one), as a message. */
export function snippetDrift(readme: string, readExample: (file: string) => string | undefined): string[] {
  const problems: string[] = []
  for (const s of markedSnippets(readme)) {
    const text = readExample(s.file)
    if (text === undefined) {
      problems.push(`README.md:${s.line}: ${s.file} does not exist`)
      continue
    }
    let region: string
    try {
      region = exampleRegion(text, s.region)
    } catch (error) {
      problems.push(`README.md:${s.line}: ${s.file}: ${(error as Error).message}`)
      continue
    }
    if (region !== s.body.replace(/\s+$/, '')) {
      problems.push(
        `README.md:${s.line}: the snippet differs from ${s.file}#${s.region}; copy the region into README.\n` +
          `--- README.md\n${s.body}\n--- ${s.file}#${s.region}\n${region}`,
      )
    }
  }
  return problems
}
