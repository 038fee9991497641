import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction, type RunActionResult } from '../helpers/run-action.js'
import { HOME, WindowsMachine, wineBed, WORKSPACE } from '../helpers/run-windows.js'
import { startTestbed, type Testbed } from '../testbed/index.js'

// dist/ run by a Windows build of Node 24 under Wine, as a hosted Windows runner runs it (see
// run-windows.ts): drive letters, `\`, `~\`, the home on C: and the workspace on D:, RUNNER_OS.
// Wine is not Windows: it creates names NTFS refuses and has no symlinks, so what is asserted
// here is the action's own decision (a refusal, a log line), never the file system's reaction.
const bed = wineBed()
const unavailable = 'unavailable' in bed ? bed.unavailable : undefined
if (unavailable) console.warn(`Windows e2e tests skipped: ${unavailable}`)
const describeWine = unavailable ? describe.skip : describe

let registry: Testbed
let win: WindowsMachine
let work: string

beforeAll(async () => {
  if (unavailable || 'unavailable' in bed) return
  registry = await startTestbed()
  win = await WindowsMachine.start(bed)
  work = mkdtempSync(path.join(os.tmpdir(), 'e2e-windows-linux-'))
})
afterAll(async () => {
  await win?.stop()
  await registry?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

function auth() {
  return { username: 'alice', token: registry.users.alice as string }
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, text)
}

function ok(result: RunActionResult): RunActionResult {
  if (result.code !== 0) throw new Error(`step failed (${result.code}):\n${result.stdout}\n${result.stderr}`)
  return result
}

/** A Linux job's pull of what a Windows job pushed (or the other way round). */
async function linuxPull(repository: string, tag: string, into: string): Promise<RunActionResult> {
  return ok(await runAction({ inputs: { mode: 'pull', path: into, repository, tag, ...auth() } }))
}

describeWine('a Windows runner (Windows Node 24 under Wine)', () => {
  test('pushes a tree from D: with a backslash glob, pulls it back, and a Linux job reads it', async () => {
    const repository = `${registry.registry}/alice/win-tree`
    write(path.join(win.workspace, 'out/bin/tool.sh'), '#!/bin/sh\necho hi\n')
    write(path.join(win.workspace, 'out/doc/readme.txt'), 'read me\n')
    write(path.join(win.workspace, 'out/build.log'), 'left out\n')
    const push = ok(
      await win.run({
        inputs: { mode: 'push', path: 'out\n!out\\*.log', repository, tag: 'v1', ...auth() },
      }),
    )
    expect(push.outputs.digest).toMatch(/^sha256:/)
    expect(push.stdout).toContain(`Packing 4 matched entries below ${WORKSPACE}\\out`)
    // the exec bit: Windows keeps none, and the log says so
    expect(push.stdout).toContain('Windows keeps no exec bit: every file is stored 0644')

    const pull = ok(
      await win.run({ inputs: { mode: 'pull', path: 'pulled', repository, tag: 'v1', ...auth() } }),
    )
    expect(pull.outputs.digest).toBe(push.outputs.digest)
    expect(readFileSync(path.join(win.workspace, 'pulled/bin/tool.sh'), 'utf8')).toBe('#!/bin/sh\necho hi\n')
    expect(existsSync(path.join(win.workspace, 'pulled/build.log'))).toBe(false)

    const linux = path.join(work, 'from-windows')
    await linuxPull(repository, 'v1', linux)
    expect(readFileSync(path.join(linux, 'doc/readme.txt'), 'utf8')).toBe('read me\n')
    expect(statSync(path.join(linux, 'bin/tool.sh')).mode & 0o777).toBe(0o644)
  })

  test('refuses a tree on two drives (workspace on D:, home on C:) before any network work', async () => {
    const repository = `${registry.registry}/alice/win-two-drives`
    write(path.join(win.workspace, 'dist/app.exe'), 'MZ app')
    write(path.join(win.home, 'tool-cache/tool.exe'), 'MZ tool')
    const before = readFileSync(registry.logFile, 'utf8').length
    const push = await win.run({
      inputs: { mode: 'push', path: 'dist\n~\\tool-cache', repository, ...auth() },
    })
    expect(push.code).toBe(1)
    const [error] = push.annotations.filter((a) => a.level === 'error').map((a) => a.message)
    expect(error).toContain(`'dist' (${WORKSPACE}\\dist) and '~\\tool-cache' (${HOME}\\tool-cache)`)
    expect(error).toContain("push each drive's paths in a push of its own")
    expect(error).not.toMatch(/ENOENT/)
    expect(readFileSync(registry.logFile, 'utf8').length).toBe(before)

    // files each go as a layer of their own: those may come from any drive
    const files = ok(
      await win.run({
        inputs: {
          mode: 'push',
          path: 'dist\\app.exe\n~\\tool-cache\\tool.exe',
          format: 'files',
          repository,
          ...auth(),
        },
      }),
    )
    expect(files.outputs.digest).toMatch(/^sha256:/)
  })

  test('caches a path on C: and one on D: and restores both in a later job', async () => {
    const repository = `${registry.registry}/alice/win-cache`
    const inputs = {
      mode: 'cache',
      path: '~\\AppData\\Local\\tool-cache\nbuild',
      key: 'win-cache-1',
      repository,
      ...auth(),
    }
    const miss = ok(await win.run({ inputs }))
    expect(miss.outputs['cache-hit']).toBe('false')
    write(path.join(win.home, 'AppData/Local/tool-cache/index.json'), '{"tools":1}')
    write(path.join(win.workspace, 'build/obj/main.o'), 'object code')
    const save = ok(await win.run({ inputs, post: true, state: miss.state }))
    expect(save.stdout).toMatch(/Cache saved/)

    win.newJob()
    const hit = ok(await win.run({ inputs }))
    expect(hit.outputs['cache-hit']).toBe('true')
    expect(readFileSync(path.join(win.home, 'AppData/Local/tool-cache/index.json'), 'utf8')).toBe(
      '{"tools":1}',
    )
    expect(readFileSync(path.join(win.workspace, 'build/obj/main.o'), 'utf8')).toBe('object code')
  })

  // Each tree is pushed by a Linux job, where these are plain names, then pulled on Windows.
  // the entry refused is the first one Windows cannot hold: `ok/NUL/` for `ok/NUL/file.txt`
  test.each([
    ['a stream name (x:y)', 'x:y.txt', 'x:y.txt'],
    ['a device name with an extension', 'aux.txt', 'aux.txt'],
    ['a device name with a superscript digit', 'COM\u00b9', 'COM\u00b9'],
    ['a device name as a folder', 'ok/NUL/file.txt', 'ok/NUL/'],
    ['a trailing dot', 'trailing.', 'trailing.'],
    ['a trailing space', 'trailing ', 'trailing '],
    ['a character Windows refuses', 'a<b', 'a<b'],
    ['a control character', 'bell\u0007', 'bell\u0007'],
    ["node-tar's \\\\?\\ root below a folder", 'sub/\\\\?\\C:\\evil', 'sub/\\\\?\\C:\\evil'],
  ])('refuses %s on pull, naming the entry, with nothing written', async (_what, name, entry) => {
    const repository = `${registry.registry}/alice/win-names`
    const tag = `n${Buffer.from(name).toString('hex')}`.slice(0, 100)
    const tree = path.join(work, tag)
    write(path.join(tree, name), 'payload')
    write(path.join(tree, 'fine.txt'), 'fine')
    ok(await runAction({ inputs: { mode: 'push', path: tree, repository, tag, ...auth() } }))

    const pull = await win.run({ inputs: { mode: 'pull', path: 'pulled', repository, tag, ...auth() } })
    expect(pull.code).toBe(1)
    const error = pull.annotations.find((a) => a.level === 'error')?.message ?? ''
    // a pushed folder's entries sit below its name (ORAS's title)
    expect(error).toContain(`archive entry ${JSON.stringify(`${tag}/${entry}`)}`)
    expect(error).toContain('refused on Windows')
    // the destination was never created, and no staging folder is left beside it
    expect(readdirSync(win.workspace).filter((n) => n.startsWith('pulled'))).toEqual([])
  })

  test('refuses a single-file layer titled with a device name, and case twins', async () => {
    const repository = `${registry.registry}/alice/win-titles`
    write(path.join(work, 'titles/con.txt'), 'payload')
    ok(
      await runAction({
        inputs: { mode: 'push', path: path.join(work, 'titles/con.txt'), repository, tag: 'con', ...auth() },
      }),
    )
    const con = await win.run({ inputs: { mode: 'pull', path: 'pulled', repository, tag: 'con', ...auth() } })
    expect(con.code).toBe(1)
    expect(con.annotations.find((a) => a.level === 'error')?.message).toContain(
      "layer title 'con.txt' is the Windows device name CON",
    )

    write(path.join(work, 'twins/Readme'), 'one')
    write(path.join(work, 'twins/README'), 'two')
    ok(
      await runAction({
        inputs: { mode: 'push', path: path.join(work, 'twins'), repository, tag: 'twins', ...auth() },
      }),
    )
    const twins = await win.run({
      inputs: { mode: 'pull', path: 'pulled', repository, tag: 'twins', ...auth() },
    })
    expect(twins.code).toBe(1)
    expect(twins.annotations.find((a) => a.level === 'error')?.message).toMatch(/only by case/)
    expect(readdirSync(win.workspace).filter((n) => n.startsWith('pulled'))).toEqual([])

    // on Linux the same layers are plain names
    await linuxPull(repository, 'con', path.join(work, 'linux-con'))
    expect(readFileSync(path.join(work, 'linux-con/con.txt'), 'utf8')).toBe('payload')
  })

  test('a release index: each runner pulls its own platform, Windows picks windows/amd64', async () => {
    const repository = `${registry.registry}/alice/win-release`
    write(path.join(win.workspace, 'release/tool.exe'), 'MZ windows build')
    ok(
      await win.run({
        inputs: {
          mode: 'push',
          path: 'release',
          repository,
          tag: 'v1',
          platform: 'windows/amd64',
          ...auth(),
        },
      }),
    )
    write(path.join(work, 'release-linux/tool'), 'ELF linux build')
    ok(
      await runAction({
        inputs: {
          mode: 'push',
          path: path.join(work, 'release-linux'),
          repository,
          tag: 'v1',
          platform: 'linux/amd64',
          ...auth(),
        },
      }),
    )
    const pull = ok(
      await win.run({ inputs: { mode: 'pull', path: 'got', repository, tag: 'v1', ...auth() } }),
    )
    expect(pull.stdout).toMatch(/v1 is an index: using sha256:\w+ \(windows\/amd64\)/)
    expect(readFileSync(path.join(win.workspace, 'got/tool.exe'), 'utf8')).toBe('MZ windows build')
  })
})
