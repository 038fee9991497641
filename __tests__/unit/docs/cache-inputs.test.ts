import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseCacheInputs } from '../../../src/action/cache/inputs.js'

// README's Cache section lists the inputs cache mode takes: the list is what the mode reads.

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8')

/** The inputs cache mode asks the runner for, from a run of its own parser. */
function inputsRead(): Set<string> {
  const asked = new Set<string>()
  const values: Record<string, string> = { path: 'dist', key: 'k' }
  parseCacheInputs(
    (name) => {
      asked.add(name)
      return values[name] ?? ''
    },
    { GITHUB_REPOSITORY: 'octo/repo', GITHUB_WORKSPACE: '/w' },
  )
  return asked
}

describe("README's Cache section", () => {
  const section = readme.slice(
    readme.indexOf('\n## Cache'),
    readme.indexOf('\n## ', readme.indexOf('\n## Cache') + 1),
  )
  const line =
    /Inputs for this mode: ([\s\S]*?)\n\n|Inputs for this mode: ([\s\S]*?\.)\n/.exec(section)?.[0] ?? ''

  it('has its list of inputs (a test over no text would pass for nothing)', () => {
    expect(line).toContain('`key`')
  })

  it('names every input the mode reads, and no other', () => {
    const listed = new Set([...line.matchAll(/`([a-z-]+)`/g)].map((m) => m[1] as string))
    // "the token inputs": username and token; platform is read only to be refused
    const read = [...inputsRead()].filter((name) => !['username', 'token', 'platform'].includes(name))
    expect([...listed].filter((name) => name !== 'compression-level').sort()).toEqual(read.sort())
  })

  it('says path takes lines, as actions/cache does, not one directory', () => {
    expect(line).not.toMatch(/one directory/)
  })
})
