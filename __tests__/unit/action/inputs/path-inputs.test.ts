import { describe, expect, test } from '@jest/globals'
import path from 'node:path'
import { safeFileTitle } from '../../../../src/action/layers/file-layers.js'
import { commonAncestor, parsePathInput, searchRootOf } from '../../../../src/action/inputs/path-inputs.js'
import { cacheVersion } from '../../../../src/cache/cache-tag.js'

describe('path lines on Linux and macOS', () => {
  const context = { workspace: '/home/runner/work/app/app', home: '/home/runner', pathApi: path.posix }

  test('relative lines resolve in the workspace, ~ in the home directory, absolute ones stay', () => {
    const { includes, excludes, lines } = parsePathInput(
      'target\n~/.cargo/git\n/opt/sdk\n!target/tmp',
      context,
    )
    expect(includes.map((l) => [l.pattern, l.anchor])).toEqual([
      ['/home/runner/work/app/app/target', 'workspace'],
      ['/home/runner/.cargo/git', 'home'],
      ['/opt/sdk', 'absolute'],
    ])
    expect(excludes).toEqual(['/home/runner/work/app/app/target/tmp'])
    expect(lines).toEqual(['target', '~/.cargo/git', '/opt/sdk', '!target/tmp'])
  })

  test('a glob searches from its literal folder', () => {
    expect(searchRootOf('/w/packages/*/dist', path.posix)).toBe('/w/packages')
    expect(searchRootOf('/w/**/node_modules', path.posix)).toBe('/w')
    expect(parsePathInput('dist/*.tar.gz', context).includes[0]?.searchRoot).toBe(
      '/home/runner/work/app/app/dist',
    )
  })

  test('the least common ancestor of the matches roots a selection, as upload-artifact roots it', () => {
    expect(commonAncestor(['/w/dist/a.tar.gz', '/w/docs', '/w/docs/guide.md'], path.posix)).toBe('/w')
    expect(commonAncestor(['/w/build', '/w/build/a', '/w/build/b/c'], path.posix)).toBe('/w/build')
    expect(commonAncestor(['/a/x', '/b/y'], path.posix)).toBe('/')
  })
})

describe('path lines on Windows', () => {
  const context = { workspace: 'D:\\a\\app\\app', home: 'C:\\Users\\runneradmin', pathApi: path.win32 }

  test('backslashes, drive letters and ~\\ resolve as the runner means them', () => {
    const { includes } = parsePathInput(
      'build\\out\n~\\AppData\\Local\\tool\nC:\\tools\\sdk\n~/.nuget/packages',
      context,
    )
    expect(includes.map((l) => [l.pattern, l.anchor])).toEqual([
      ['D:\\a\\app\\app\\build\\out', 'workspace'],
      ['C:\\Users\\runneradmin\\AppData\\Local\\tool', 'home'],
      ['C:\\tools\\sdk', 'absolute'],
      ['C:\\Users\\runneradmin\\.nuget\\packages', 'home'],
    ])
  })

  test('a drive without a root (C:dir) is refused rather than guessed', () => {
    expect(() => parsePathInput('C:tools', context)).toThrow(/names a drive without a root/)
  })

  test('a glob searches from its literal folder, either separator', () => {
    expect(searchRootOf('D:\\a\\app\\app\\bin\\*.exe', path.win32)).toBe('D:\\a\\app\\app\\bin')
    expect(searchRootOf('D:\\a\\app/packages/*/dist', path.win32)).toBe('D:\\a\\app\\packages')
  })

  test('ancestors compare without case, as NTFS does', () => {
    expect(commonAncestor(['D:\\A\\Dist\\x.exe', 'd:\\a\\dist\\y.exe'], path.win32)).toBe('D:\\A\\Dist')
    expect(commonAncestor(['C:\\x', 'C:\\y'], path.win32)).toBe('C:\\')
  })

  test('a file title that Windows cannot hold is refused on pull', () => {
    for (const title of ['con', 'NUL.txt', 'a:b', 'what?', 'trailing.', 'sub\\file', '..']) {
      expect(() => safeFileTitle(title, true)).toThrow(/refusing to write it/)
    }
    expect(safeFileTitle('tool-windows-amd64.exe', true)).toBe('tool-windows-amd64.exe')
    // on Linux and macOS those names are plain files, but a path never is
    expect(safeFileTitle('con', false)).toBe('con')
    expect(() => safeFileTitle('a/b', false)).toThrow(/single path component/)
  })

  test('a cache saved on Windows is another version than the same lines elsewhere', () => {
    expect(cacheVersion(['~/.nuget/packages'], true)).not.toBe(cacheVersion(['~/.nuget/packages'], false))
  })
})
