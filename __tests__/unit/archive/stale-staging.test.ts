import { describe, expect, it } from '@jest/globals'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { rawTar } from './hostile-tar.js'
import { tempDir } from './tree.js'

const layer = () => Readable.from([rawTar([{ path: 'a.txt', body: 'a' }])])

// A pid that no process has any more: a child that ran and exited.
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid as number
}

function leftover(parent: string, name: string, ageDays = 0): string {
  const folder = path.join(parent, name)
  mkdirSync(folder)
  writeFileSync(path.join(folder, 'half-written.bin'), 'x')
  if (ageDays > 0) {
    const at = (Date.now() - ageDays * 86_400_000) / 1000
    utimesSync(folder, at, at)
  }
  return folder
}

describe('staging folders of earlier pulls of the same dest', () => {
  it('those of processes that are gone are swept; a running pull’s and other dests’ are kept', async () => {
    const parent = tempDir()
    const dest = path.join(parent, 'dest')
    mkdirSync(dest)
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    try {
      const killed = leftover(parent, `dest.partial-${deadPid()}-0123abcd`)
      const alive = leftover(parent, `dest.partial-${running.pid}-0123abcd`)
      const otherDest = leftover(parent, `other.partial-${deadPid()}-0123abcd`)
      const oldUnowned = leftover(parent, 'dest.partial-89abcdef', 2)
      const freshUnowned = leftover(parent, 'dest.partial-fedcba98')
      await extractToDirectory(layer(), dest, { compression: 'none' })
      expect(existsSync(killed)).toBe(false)
      expect(existsSync(oldUnowned)).toBe(false)
      expect(existsSync(alive)).toBe(true)
      expect(existsSync(otherDest)).toBe(true)
      expect(existsSync(freshUnowned)).toBe(true)
      expect(readdirSync(dest)).toEqual(['a.txt'])
    } finally {
      running.kill()
    }
  })

  it('a staging folder is named for the process that owns it', async () => {
    const parent = tempDir()
    const dest = path.join(parent, 'dest')
    const names: string[] = []
    const source = new Readable({
      read() {
        names.push(...readdirSync(parent))
        this.push(rawTar([{ path: 'a.txt', body: 'a' }]))
        this.push(null)
      },
    })
    await extractToDirectory(source, dest, { compression: 'none' })
    expect(names).toEqual([expect.stringMatching(new RegExp(`^dest\\.partial-${process.pid}-[0-9a-f]{8}$`))])
  })
})
