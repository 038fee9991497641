import { describe, expect, it } from '@jest/globals'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { digestDirectory } from '../../../src/archive/pack.js'
import { walkSelection, walkTree } from '../../../src/archive/walk.js'
import { buildTree, tempDir } from './tree.js'

// every entry below root, as @actions/glob lists a directory's implicit descendants
function everything(root: string, relative = ''): string[] {
  const out: string[] = []
  for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
    const child = relative ? `${relative}/${entry.name}` : entry.name
    out.push(child)
    if (entry.isDirectory()) out.push(...everything(root, child))
  }
  return out
}

describe('a selection of paths below a root', () => {
  it('of the whole tree, in any order, packs to the same tar as the tree itself', async () => {
    const root = buildTree(tempDir('selection-'))
    const selection = everything(root).reverse()
    const options = { prefix: 'dist', mtime: new Date(0) }
    const whole = await digestDirectory(root, options)
    const selected = await digestDirectory(root, { ...options, select: selection })
    expect(selected).toEqual(whole)
  })

  it('brings the folders leading to each path, and nothing else below them', () => {
    const root = buildTree(tempDir('selection-'))
    const entries = [...walkSelection(root, ['a/b/c/d/e/f/deep.txt', 'bin/run.sh'], false)]
    expect(entries.map((e) => [e.relative, e.kind])).toEqual([
      ['a', 'directory'],
      ['a/b', 'directory'],
      ['a/b/c', 'directory'],
      ['a/b/c/d', 'directory'],
      ['a/b/c/d/e', 'directory'],
      ['a/b/c/d/e/f', 'directory'],
      ['a/b/c/d/e/f/deep.txt', 'file'],
      ['bin', 'directory'],
      ['bin/run.sh', 'file'],
    ])
  })

  it('leaves .git out unless asked, and refuses a path outside the root', () => {
    const root = tempDir('selection-')
    expect([...walkSelection(root, ['.git/config', '.git'], false)]).toEqual([])
    expect(() => [...walkSelection(root, ['../elsewhere'], false)]).toThrow(/outside/)
  })

  it('a walk of the tree leaves hidden names out when asked (push), keeps them by default (cache)', () => {
    const root = buildTree(tempDir('selection-'))
    const names = (includeHidden: boolean) =>
      [...walkTree(root, { includeGit: false, includeHidden })].map((e) => e.relative)
    expect(names(true)).toContain('.env.example')
    expect(names(false).filter((n) => n.split('/').some((p) => p.startsWith('.')))).toEqual([])
  })
})
