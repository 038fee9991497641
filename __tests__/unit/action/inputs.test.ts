import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError, parseInputs } from '../../../src/action/inputs.js'

const workspace = mkdtempSync(path.join(os.tmpdir(), 'inputs-'))
writeFileSync(path.join(workspace, 'a-file'), 'x')
const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'Octo-Org/My-Repo', GITHUB_RUN_ID: '4242' }

function parse(values: Record<string, string>, extraEnv: Record<string, string> = {}) {
  return parseInputs((name) => values[name] ?? '', { ...env, ...extraEnv })
}

function refusal(values: Record<string, string>): InputError {
  try {
    parse(values)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError')
}

describe('parseInputs', () => {
  test('defaults: push of the current repository on ghcr.io, lowercased, tagged with the run id', () => {
    const inputs = parse({ path: '.', token: 'secret', username: 'octocat' })
    expect(inputs).toMatchObject({
      mode: 'push',
      path: workspace,
      registry: 'ghcr.io',
      repository: 'octo-org/my-repo',
      tags: ['run-4242'],
      compressionLevel: 6,
      includeGit: false,
      plainHttp: false,
      credentials: { username: 'octocat', password: 'secret' },
    })
  })

  test('plain-http is an opt-in for a named registry', () => {
    expect(
      parse({ path: '.', repository: 'registry.lan:5000/team/tool', 'plain-http': 'true' }),
    ).toMatchObject({
      registry: 'registry.lan:5000',
      plainHttp: true,
    })
  })

  test('a pull with no inputs finds what a push with only path published in the same run', () => {
    const pushed = parse({ path: '.' })
    const pulled = parse({ mode: 'pull' })
    expect(pulled.tags).toEqual(pushed.tags)
    expect(`${pulled.registry}/${pulled.repository}`).toBe(`${pushed.registry}/${pushed.repository}`)
    expect(pulled.path).toBe(workspace)
  })

  test('cache mode defaults to a /cache package beside the artifacts', () => {
    expect(parse({ mode: 'cache', path: 'x', key: 'k' }).repository).toBe('octo-org/my-repo/cache')
  })

  test('a leading ~ in path is the home directory, as actions/cache reads it', () => {
    expect(parse({ mode: 'cache', path: '~/.npm', key: 'k' }, { HOME: '/home/runner' }).path).toBe(
      '/home/runner/.npm',
    )
  })

  test('tags split on commas and newlines, duplicates dropped', () => {
    expect(parse({ path: '.', tag: 'v1.2.3, latest\nedge\nlatest' }).tags).toEqual([
      'v1.2.3',
      'latest',
      'edge',
    ])
  })

  test('a host in repository selects another registry', () => {
    expect(parse({ path: '.', repository: 'localhost:5000/x/y' })).toMatchObject({
      registry: 'localhost:5000',
      repository: 'x/y',
    })
  })

  test('pull accepts a digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`
    expect(parse({ mode: 'pull', tag: digest }).tags).toEqual([digest])
  })

  test('an empty token means anonymous', () => {
    expect(parse({ path: '.', token: '' }).credentials).toBeUndefined()
  })

  test('the GitHub token is never sent to another registry', () => {
    const notices: string[] = []
    const inputs = parseInputs(
      (name) => ({ path: '.', repository: 'registry.example.com/a/b', token: 'ghs_abc123' })[name] ?? '',
      env,
      (m) => notices.push(m),
    )
    expect(inputs.credentials).toBeUndefined()
    expect(notices[0]).toContain('registry.example.com')
    expect(parse({ path: '.', token: 'ghs_abc123' }).credentials?.password).toBe('ghs_abc123')
  })

  test('annotations are key=value lines', () => {
    expect(parse({ path: '.', annotations: 'a=1\n b = two=2 \n' }).annotations).toEqual({
      a: '1',
      b: 'two=2',
    })
  })

  test.each([
    [{ mode: 'upload', path: '.' }, 'mode', "'upload'"],
    [{ path: '' }, 'path', 'required'],
    [{ path: 'missing-dir' }, 'path', "'missing-dir' does not exist"],
    [{ path: 'a-file' }, 'path', 'not a directory'],
    [{ mode: 'pull', path: 'a-file' }, 'path', 'not a directory'],
    [{ path: '.', repository: 'UPPER/../x' }, 'repository', '../x'],
    [{ path: '.', repository: 'owner//name' }, 'repository', 'owner//name'],
    [{ path: '.', tag: 'ok,-bad' }, 'tag', "'-bad'"],
    [{ path: '.', tag: 'x'.repeat(129) }, 'tag', 'not a valid tag'],
    [{ mode: 'pull', tag: 'a,b' }, 'tag', 'one tag'],
    [{ mode: 'pull', tag: 'sha256:abc' }, 'tag', "'sha256:abc'"],
    [{ path: '.', 'compression-level': '10' }, 'compression-level', "'10'"],
    [{ path: '.', 'compression-level': 'fast' }, 'compression-level', "'fast'"],
    [{ path: '.', annotations: 'novalue' }, 'annotations', "'novalue'"],
    [{ path: '.', 'artifact-type': 'not a type' }, 'artifact-type', "'not a type'"],
    [{ path: '.', format: 'zip' }, 'format', "'zip'"],
    [{ path: '.', 'include-git': 'yes' }, 'include-git', "'yes'"],
    [{ path: '.', 'plain-http': 'on' }, 'plain-http', "'on'"],
    [{ path: '.', 'plain-http': 'true' }, 'plain-http', 'ghcr.io speaks only https'],
    [{ mode: 'cache', path: 'x' }, 'key', 'required'],
    [{ mode: 'cache', path: 'x', key: 'k', 'cache-scope': 'a b' }, 'cache-scope', "'a b'"],
    [{ mode: 'cache', path: 'x', key: 'k'.repeat(513) }, 'key', '512'],
  ])('refuses %j naming %s', (values, input, quoted) => {
    const error = refusal(values as Record<string, string>)
    expect(error.input).toBe(input)
    expect(error.message).toContain(`'${input}'`)
    expect(error.message).toContain(quoted)
  })
})
