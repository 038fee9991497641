import { describe, expect, test } from '@jest/globals'
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { packDirectoryToFile } from '../../../../src/archive/pack.js'
import { collectPushSource } from '../../../../src/action/push/source.js'
import { parsePathInput } from '../../../../src/action/inputs/path-inputs.js'

function workspace(files: string[]): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'collect-'))
  for (const file of files) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), file)
  }
  return root
}

function source(
  root: string,
  lines: string,
  format: 'auto' | 'directory' | 'files' = 'auto',
  includeHidden = false,
) {
  const patterns = parsePathInput(lines, { workspace: root, home: os.homedir() })
  return collectPushSource(patterns, format, { workspace: root, includeGit: false, includeHidden })
}

describe('what a push packs', () => {
  test('one directory named as it is is walked whole', async () => {
    const root = workspace(['dist/a.js'])
    expect(await source(root, 'dist')).toEqual({ kind: 'directory', root: path.join(root, 'dist') })
  })

  test('globs and exclusions select entries below their least common ancestor', async () => {
    const root = workspace(['dist/a.tar.gz', 'dist/a.map', 'docs/guide.md', 'docs/x.tmp', 'docs/.env'])
    const found = await source(root, 'dist/*.tar.gz\ndocs\n!**/*.tmp')
    expect(found).toEqual({
      kind: 'selection',
      root,
      select: ['dist/a.tar.gz', 'docs', 'docs/guide.md'].map((p) => p.split('/').join(path.sep)),
    })
  })

  test('hidden names count below what a line names: written out, they are kept', async () => {
    const root = workspace(['.well-known/security.txt', 'site/.env', 'site/index.html'])
    const found = await source(root, '.well-known\nsite/*')
    expect(found.kind === 'selection' && found.select.sort()).toEqual(
      ['.well-known', '.well-known/security.txt', 'site/index.html'].map((p) => p.split('/').join(path.sep)),
    )
  })

  test('.git stays out even when named, unless include-git', async () => {
    const root = workspace(['.git/config', 'src/a.ts'])
    const found = await source(root, '.git/config\nsrc/a.ts', 'auto', true)
    expect(found).toEqual({ kind: 'files', files: [path.join(root, 'src/a.ts')] })
  })

  test('a lone file is a file layer; format: directory packs it as a tar', async () => {
    const root = workspace(['bin/tool'])
    const tool = path.join(root, 'bin/tool')
    expect(await source(root, 'bin/tool')).toEqual({ kind: 'files', files: [tool] })
    expect(await source(root, 'bin/*')).toEqual({ kind: 'files', files: [tool] })
    expect(await source(root, 'bin/tool', 'directory')).toEqual({
      kind: 'selection',
      root: path.join(root, 'bin'),
      select: ['tool'],
    })
  })

  test('format: files takes every matched file in name order, and refuses two of one name', async () => {
    const root = workspace(['release/z-tool', 'release/a-tool', 'release/docs/readme'])
    chmodSync(path.join(root, 'release/z-tool'), 0o755)
    const found = await source(root, 'release', 'files')
    expect(found).toEqual({
      kind: 'files',
      files: ['release/a-tool', 'release/docs/readme', 'release/z-tool'].map((p) => path.join(root, p)),
    })
    const clash = workspace(['linux/tool', 'mac/tool'])
    await expect(source(clash, 'linux/tool\nmac/tool', 'files')).rejects.toThrow(
      /would both be pulled as 'tool'/,
    )
  })

  test('format: files refuses a symlink, which a file layer cannot hold', async () => {
    const root = workspace(['release/tool'])
    symlinkSync('tool', path.join(root, 'release/latest'))
    await expect(source(root, 'release', 'files')).rejects.toThrow(/is a symlink/)
  })

  test('nothing matched is none, for if-no-files-found to judge', async () => {
    const root = workspace([])
    expect(await source(root, 'missing')).toEqual({ kind: 'none' })
    expect(await source(root, 'missing/*.zip')).toEqual({ kind: 'none' })
  })
})

describe('include-git: true puts .git in, whatever include-hidden-files says (README)', () => {
  test('a selection keeps .git and what is in it, other hidden names still out', async () => {
    const root = workspace(['.git/config', '.env', 'src/a.ts', 'src/a.tmp'])
    const patterns = parsePathInput('.\n!**/*.tmp', { workspace: root, home: os.homedir() })
    const found = await collectPushSource(patterns, 'auto', {
      workspace: root,
      includeGit: true,
      includeHidden: false,
    })
    expect(found).toEqual({
      kind: 'selection',
      root,
      select: ['.git', '.git/config', 'src', 'src/a.ts'].map((p) => p.split('/').join(path.sep)),
    })
  })

  test('a directory push packs .git with include-git alone, and no other hidden name', async () => {
    const root = workspace(['.git/config', '.env', 'src/a.ts'])
    const layer = path.join(mkdtempSync(path.join(os.tmpdir(), 'include-git-')), 'layer.tgz')
    await packDirectoryToFile(root, layer, { compression: 'gzip', includeGit: true, includeHidden: false })
    const listed = execFileSync('tar', ['-tzf', layer], { encoding: 'utf8' })
    expect(listed).toMatch(/^\.git\/config$/m)
    expect(listed).not.toMatch(/^\.env$/m)
  })
})
