import { describe, expect, it } from '@jest/globals'
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar } from './hostile-tar.js'
import { tempDir } from './tree.js'

// A macOS runner's TMPDIR is /var/folders/.../T, and /var is a symlink to /private/var: a pull
// into it stages beside the destination through the link, and the final rename stays on one
// file system. Rebuilt here with a link of the same shape (var -> private/var).
describe('a destination below a symlinked TMPDIR (macOS)', () => {
  function tmpdirLike() {
    const root = tempDir('macos-tmp-')
    const real = path.join(root, 'private/var/folders/x8/T')
    mkdirSync(real, { recursive: true })
    symlinkSync('private/var', path.join(root, 'var'))
    return { real, linked: path.join(root, 'var/folders/x8/T') }
  }
  const layer = (body: string) => Readable.from([rawTar([{ path: 'bin/tool', body, mode: 0o755 }])])

  it('is created through the link, then merged into on a second pull, with no staging left', async () => {
    const { real, linked } = tmpdirLike()
    await extractToDirectory(layer('v1'), path.join(linked, 'pulled'), { compression: 'none' })
    expect(readFileSync(path.join(real, 'pulled/bin/tool'), 'utf8')).toBe('v1')
    await extractToDirectory(layer('v2'), path.join(linked, 'pulled'), { compression: 'none' })
    expect(readFileSync(path.join(real, 'pulled/bin/tool'), 'utf8')).toBe('v2')
    expect(readdirSync(real)).toEqual(['pulled'])
  })

  it('is left as it was when a pull fails, staging removed beside the real folder', async () => {
    const { real, linked } = tmpdirLike()
    await extractToDirectory(layer('v1'), path.join(linked, 'pulled'), { compression: 'none' })
    const hostile = Readable.from([
      rawTar([
        { path: 'bin/tool', body: 'v2' },
        { path: '../escape', body: 'x' },
      ]),
    ])
    await expect(
      extractToDirectory(hostile, path.join(linked, 'pulled'), { compression: 'none' }),
    ).rejects.toThrow(/".." components are refused/)
    expect(readFileSync(path.join(real, 'pulled/bin/tool'), 'utf8')).toBe('v1')
    expect(readdirSync(real)).toEqual(['pulled'])
  })
})
