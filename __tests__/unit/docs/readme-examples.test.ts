import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { exampleRegion, markedSnippets, snippetDrift } from '../../helpers/readme-examples.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const read = (file: string): string | undefined =>
  existsSync(root + file) ? readFileSync(root + file, 'utf8') : undefined
// A missing README fails every test that reads it, rather than passing as an empty one.
function readReadme(): string {
  const text = read('README.md')
  if (text === undefined) throw new Error(`README.md is missing from ${root}`)
  return text
}

const example = `jobs:
  test:
    steps:
      # region step
      - uses: oci-artifact-action/oci-artifact-action@v1
        with:
          mode: cache
      # endregion step
      - run: npm test
`
const readme = (body: string): string =>
  `Text.\n\n<!-- example: examples/x.yml#step -->\n\`\`\`yaml\n${body}\n\`\`\`\n\nMore text.\n`
const same = '- uses: oci-artifact-action/oci-artifact-action@v1\n  with:\n    mode: cache'

describe("README's snippets and examples/", () => {
  it('a region is the lines between its markers, dedented', () => {
    expect(exampleRegion(example, 'step')).toBe(same)
  })

  it('a snippet equal to its region passes; an edited, missing or unnamed one is reported', () => {
    const files = (f: string): string | undefined => (f === 'examples/x.yml' ? example : undefined)
    expect(snippetDrift(readme(same), files)).toEqual([])
    expect(snippetDrift(readme(same.replace('cache', 'push')), files)).toEqual([
      expect.stringMatching(/^README.md:3: the snippet differs from examples\/x.yml#step/),
    ])
    expect(snippetDrift(readme(`${same}\n    key: extra`), files)).toHaveLength(1)
    expect(snippetDrift(readme(same).replace('x.yml', 'y.yml'), files)).toEqual([
      'README.md:3: examples/y.yml does not exist',
    ])
    expect(snippetDrift(readme(same).replace('#step', '#other'), files)).toEqual([
      expect.stringMatching(/no "# region other"/),
    ])
  })

  it('every marked snippet in README.md equals its example', () => {
    const readmeText = readReadme()
    expect(markedSnippets(readmeText).length).toBeGreaterThanOrEqual(6)
    expect(snippetDrift(readmeText, read)).toEqual([])
  })

  it('README.md links every example', () => {
    const readmeText = readReadme()
    const examples = readdirSync(root + 'examples').filter((f) => f.endsWith('.yml'))
    expect(examples.filter((f) => !readmeText.includes(`](examples/${f})`))).toEqual([])
  })
})

/** The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-')
}

describe("README's links", () => {
  it('every #anchor names a heading, and every linked file exists', () => {
    const text = readReadme()
    const anchors = new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1] ?? '')))
    const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
    expect(links.filter((l) => l.startsWith('#')).length).toBeGreaterThan(0)
    expect(links.filter((l) => l.startsWith('#') && !anchors.has(l.slice(1)))).toEqual([])
    const files = links.filter((l) => !/^(#|https?:)/.test(l)).map((l) => l.split('#')[0] ?? '')
    expect(files.filter((f) => !existsSync(root + f))).toEqual([])
  })
})
