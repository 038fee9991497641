import { describe, expect, test } from '@jest/globals'
import path from 'node:path'
import { refuseSeveralDrives } from '../../../../src/action/push/source.js'
import { safeFileTitle } from '../../../../src/action/layers/file-layers.js'
import {
  commonAncestor,
  isWithin,
  parsePathInput,
  searchRootOf,
} from '../../../../src/action/inputs/path-inputs.js'
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

  // a hosted runner's workspace is on D:, its home on C:: no tree holds both (it was `\`, and the
  // push then failed with ENOENT lstat 'D:\C:')
  test('paths on two drives have no common ancestor, and a push of them is refused naming both', () => {
    expect(() =>
      commonAncestor(['D:\\a\\app\\app\\dist', 'C:\\Users\\runneradmin\\tool-cache'], path.win32),
    ).toThrow(/have no folder in common/)
    const { includes } = parsePathInput('dist\n~\\tool-cache', context)
    expect(() => refuseSeveralDrives(includes, path.win32)).toThrow(
      "Input 'path': 'dist' (D:\\a\\app\\app\\dist) and '~\\tool-cache' (C:\\Users\\runneradmin\\tool-cache) are " +
        "on different drives, and a push stores one tree with one root: push each drive's paths",
    )
    // one drive, spelled in either case: one tree
    expect(() =>
      refuseSeveralDrives(parsePathInput('dist\nd:\\a\\other', context).includes, path.win32),
    ).not.toThrow()
  })

  test('a file title that Windows cannot hold is refused on pull', () => {
    for (const title of [
      'con',
      'NUL.txt',
      'a:b',
      'what?',
      'trailing.',
      'sub\\file',
      '..',
      'COM\u00b2',
      'CON .txt',
    ]) {
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

// A macOS runner: the workspace under /Users/runner/work, TMPDIR under /var/folders, which is a
// symlink into /private/var. What touches path logic is checked here with posix paths; the file
// system's own rules (case-insensitive APFS) are covered by the archive's case tests.
describe('path lines on macOS', () => {
  const context = { workspace: '/Users/runner/work/app/app', home: '/Users/runner', pathApi: path.posix }
  const tmp = '/var/folders/x8/3k2v9b1d5qz_0000gn/T'

  test('~ is the runner home, and TMPDIR lines are outside the workspace', () => {
    const { includes } = parsePathInput(`~/Library/Caches/tool\n${tmp}/build\n.build`, context)
    expect(includes.map((l) => [l.pattern, l.anchor])).toEqual([
      ['/Users/runner/Library/Caches/tool', 'home'],
      [`${tmp}/build`, 'absolute'],
      ['/Users/runner/work/app/app/.build', 'workspace'],
    ])
    expect(isWithin('/Users/runner/work/app/app/.build/x', context.workspace, path.posix)).toBe(true)
    expect(isWithin(`${tmp}/build`, context.workspace, path.posix)).toBe(false)
    expect(isWithin('/Users/runner/work/app/app-other', context.workspace, path.posix)).toBe(false)
  })

  // paths are compared as spelled, never through realpath: glob gives matches spelled as their
  // line, so /var/... and its /private/var/... target are two spellings that never meet
  test('a TMPDIR line and its /private target are compared as spelled', () => {
    expect(isWithin(`/private${tmp}/build`, tmp, path.posix)).toBe(false)
    expect(commonAncestor([`${tmp}/build/a`, `${tmp}/build/b`], path.posix)).toBe(`${tmp}/build`)
  })
})
