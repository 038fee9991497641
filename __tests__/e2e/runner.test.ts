import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { actionInputDefaults, parseFileCommands, runAction } from '../helpers/run-action.js'

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'runner-test-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('the bundled action', () => {
  test('fails the step when push is given a path that does not exist (if-no-files-found: error), naming that path', async () => {
    const result = await runAction({
      inputs: { mode: 'push', path: 'no-such-dir-3141', 'if-no-files-found': 'error' },
    })
    expect(result.code).not.toBe(0)
    expect(result.annotations).toContainEqual({
      level: 'error',
      message: expect.stringContaining('no-such-dir-3141'),
    })
  })
})

describe('runAction', () => {
  // A stand-in bundle that reports what it was given, so the runner's side is tested on its own.
  let fakeDist: string
  beforeAll(async () => {
    fakeDist = join(work, 'dist')
    await mkdir(join(fakeDist, 'post'), { recursive: true })
    const report = `
      import { appendFileSync, readFileSync } from 'node:fs'
      const e = process.env
      const out = (name, value) => appendFileSync(e.GITHUB_OUTPUT, name + '<<EOF_1\\n' + value + '\\nEOF_1\\n')
      out('inputs', JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('INPUT_')))))
      out('cwd', process.cwd())
      out('node', process.version)
      out('node-options', e.NODE_OPTIONS ?? '')
      out('multi', 'line one\\nline two')
      out('state', JSON.stringify(Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('STATE_')))))
      appendFileSync(e.GITHUB_STATE, 'saved=from main\\n')
      appendFileSync(e.GITHUB_STEP_SUMMARY, '| a | b |\\n')
      appendFileSync(e.GITHUB_ENV, 'EXPORTED=yes\\n')
      for (const k of ['RUNNER_TEMP', 'GITHUB_WORKSPACE', 'GITHUB_REPOSITORY', 'GITHUB_RUN_ID', 'GITHUB_SHA']) out(k, e[k] ?? '')
      out('event', readFileSync(e.GITHUB_EVENT_PATH, 'utf8'))
      console.log('::warning::careful%0Anext line')
      process.exitCode = Number(e.INPUT_MODE === 'fail')
    `
    await writeFile(join(fakeDist, 'index.js'), report)
    await writeFile(join(fakeDist, 'post', 'index.js'), report)
    await writeFile(join(fakeDist, 'package.json'), '{"type":"module"}')
  })

  test('passes inputs as INPUT_<NAME> with hyphens kept, filling in action.yml defaults', async () => {
    const result = await runAction({
      distDir: fakeDist,
      inputs: { mode: 'pull', 'compression-level': 9 },
      env: { GITHUB_TOKEN: 'ghs_test', GITHUB_ACTOR: 'alice' },
    })
    expect(result.code).toBe(0)
    const inputs = JSON.parse(result.outputs.inputs ?? '{}') as Record<string, string>
    expect(inputs).toMatchObject({
      INPUT_MODE: 'pull',
      'INPUT_COMPRESSION-LEVEL': '9',
      INPUT_FORMAT: 'auto',
      INPUT_TOKEN: 'ghs_test',
      INPUT_USERNAME: 'alice',
      INPUT_PATH: '',
    })
    expect(Object.keys(inputs).sort()).toEqual(
      Object.keys(await actionInputDefaults())
        .map((n) => `INPUT_${n.toUpperCase()}`)
        .sort(),
    )
  })

  test('runs Node 24 without jest NODE_OPTIONS, in the workspace, with runner variables', async () => {
    const workspace = join(work, 'ws')
    const result = await runAction({
      distDir: fakeDist,
      inputs: {},
      workspace,
      env: { GITHUB_RUN_ID: '99' },
      event: { pull_request: { number: 5 } },
    })
    expect(JSON.parse(result.outputs.event ?? '')).toEqual({ pull_request: { number: 5 } })
    expect(result.outputs.node).toMatch(/^v24\./)
    expect(result.outputs['node-options']).toBe('')
    expect(result.outputs.cwd).toBe(workspace)
    expect(result.outputs).toMatchObject({
      GITHUB_WORKSPACE: workspace,
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_RUN_ID: '99',
    })
    expect(result.outputs.RUNNER_TEMP).not.toBe('')
    expect(result.outputs.GITHUB_SHA).toMatch(/^[0-9a-f]{40}$/)
  })

  test('reads back outputs (multi-line too), state, summary, exported env and annotations', async () => {
    const result = await runAction({ distDir: fakeDist, inputs: { mode: 'fail' } })
    expect(result.code).toBe(1)
    expect(result.outputs.multi).toBe('line one\nline two')
    expect(result.state).toEqual({ saved: 'from main' })
    expect(result.summary).toBe('| a | b |\n')
    expect(result.exportedEnv).toEqual({ EXPORTED: 'yes' })
    expect(result.annotations).toEqual([{ level: 'warning', message: 'careful\nnext line' }])
  })

  test('hands the main step state to the post step as STATE_<name>, and the same RUNNER_TEMP when given', async () => {
    const env = { RUNNER_TEMP: join(work, 'runner-temp') }
    const main = await runAction({ distDir: fakeDist, inputs: {}, env })
    const post = await runAction({ distDir: fakeDist, inputs: {}, post: true, state: main.state, env })
    expect(JSON.parse(post.outputs.state ?? '{}')).toEqual({ STATE_saved: 'from main' })
    expect(post.outputs.RUNNER_TEMP).toBe(env.RUNNER_TEMP)
    expect(main.outputs.RUNNER_TEMP).toBe(env.RUNNER_TEMP)
  })

  test('refuses an input action.yml does not declare, so a typo fails the test instead of the action', async () => {
    await expect(runAction({ distDir: fakeDist, inputs: { compresion: 1 } })).rejects.toThrow(
      /no input compresion/,
    )
  })
})

test('parseFileCommands reads both name=value lines and name<<DELIM blocks', () => {
  expect(parseFileCommands('a=1=2\nb<<X\nfirst\n\nthird\nX\nc=\n')).toEqual({
    a: '1=2',
    b: 'first\n\nthird',
    c: '',
  })
})
