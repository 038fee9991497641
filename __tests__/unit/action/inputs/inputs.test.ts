import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseCacheInputs } from '../../../../src/action/cache/inputs.js'
import { InputError, type ReadInput } from '../../../../src/action/inputs/readers.js'
import { readMode } from '../../../../src/action/main.js'
import { parsePruneInputs } from '../../../../src/action/prune/inputs.js'
import { parsePullInputs } from '../../../../src/action/pull/inputs.js'
import { parsePushInputs } from '../../../../src/action/push/inputs.js'

const workspace = mkdtempSync(path.join(os.tmpdir(), 'inputs-'))
writeFileSync(path.join(workspace, 'a-file'), 'x')
symlinkSync('nowhere', path.join(workspace, 'dangling'))
const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'Octo-Org/My-Repo', GITHUB_RUN_ID: '4242' }

// Each mode reads its own inputs: `parse` is a push's, the others are named for their mode.
const reader =
  (values: Record<string, string>): ReadInput =>
  (name) =>
    values[name] ?? ''
const PARSERS = {
  push: parsePushInputs,
  pull: parsePullInputs,
  cache: parseCacheInputs,
  prune: parsePruneInputs,
}

function parse(values: Record<string, string>, extraEnv: Record<string, string> = {}) {
  return parsePushInputs(reader(values), { ...env, ...extraEnv })
}
function parsePull(values: Record<string, string>) {
  return parsePullInputs(reader(values), env)
}
function parseCache(values: Record<string, string>, extraEnv: Record<string, string> = {}) {
  return parseCacheInputs(reader(values), { ...env, ...extraEnv })
}
function parsePrune(values: Record<string, string>) {
  return parsePruneInputs(reader(values), env)
}

function refusal(values: Record<string, string>): InputError {
  try {
    PARSERS[readMode(reader(values))](reader(values), env)
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError')
}

describe('parseInputs', () => {
  test('defaults: push of the current repository on ghcr.io, lowercased, tagged with the run id', () => {
    const inputs = parse({ path: '.', token: 'secret', username: 'octocat' })
    expect(readMode(reader({ path: '.' }))).toBe('push')
    expect(inputs).toMatchObject({
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
    const pulled = parsePull({ mode: 'pull' })
    expect([pulled.reference]).toEqual(pushed.tags)
    expect(`${pulled.registry}/${pulled.repository}`).toBe(`${pushed.registry}/${pushed.repository}`)
    expect(pulled.path).toBe(workspace)
  })

  test('cache mode defaults to a /cache package beside the artifacts', () => {
    expect(parseCache({ mode: 'cache', path: 'x', key: 'k' }).repository).toBe('octo-org/my-repo/cache')
  })

  test('a leading ~ in path is the home directory, as actions/cache reads it', () => {
    expect(
      parseCache({ mode: 'cache', path: '~/.npm', key: 'k' }, { HOME: '/home/runner' }).paths.includes[0]
        ?.pattern,
    ).toBe('/home/runner/.npm')
  })

  test('path takes several lines, globs and exclusions, as upload-artifact and actions/cache read it', () => {
    const inputs = parse(
      {
        path: 'dist/*.tar.gz\n  docs/\n!docs/**/*.tmp\n~/.cache/tool\n/opt/abs\n# a comment',
        'include-hidden-files': 'true',
      },
      { HOME: '/home/runner' },
    )
    expect(inputs.path).toBe(path.join(workspace, 'dist/*.tar.gz'))
    expect(inputs.paths.includes.map((l) => [l.given, l.pattern, l.literal, l.anchor])).toEqual([
      ['dist/*.tar.gz', path.join(workspace, 'dist/*.tar.gz'), false, 'workspace'],
      ['docs/', path.join(workspace, 'docs'), true, 'workspace'],
      ['~/.cache/tool', '/home/runner/.cache/tool', true, 'home'],
      ['/opt/abs', '/opt/abs', true, 'absolute'],
    ])
    expect(inputs.paths.includes[0]?.searchRoot).toBe(path.join(workspace, 'dist'))
    expect(inputs.paths.excludes).toEqual([path.join(workspace, 'docs/**/*.tmp')])
    expect(inputs).toMatchObject({ ifNoFilesFound: 'warn', includeHiddenFiles: true })
  })

  test('a single file, or a path that does not exist yet, is a push input (if-no-files-found decides later)', () => {
    expect(parse({ path: 'a-file' }).path).toBe(path.join(workspace, 'a-file'))
    expect(parse({ path: 'missing', 'if-no-files-found': 'error' }).ifNoFilesFound).toBe('error')
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
    expect(parsePull({ mode: 'pull', tag: digest }).reference).toEqual(digest)
  })

  test('an empty token means anonymous', () => {
    expect(parse({ path: '.', token: '' }).credentials).toBeUndefined()
  })

  test('the GitHub token is never sent to another registry', () => {
    const notices: string[] = []
    const inputs = parsePushInputs(
      reader({ path: '.', repository: 'registry.example.com/a/b', token: 'ghs_abc123' }),
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
    [{ path: '!dist/*.map' }, 'path', 'names nothing but exclusions'],
    [{ path: 'dist\n!' }, 'path', 'excludes nothing'],
    [{ mode: 'pull', path: 'one\ntwo' }, 'path', 'one directory'],
    [{ mode: 'pull', format: 'files' }, 'format', 'push format'],
    [{ path: '.', 'if-no-files-found': 'fail' }, 'if-no-files-found', "'fail'"],
    [{ path: '.', 'include-hidden-files': 'yes' }, 'include-hidden-files', "'yes'"],
    [{ mode: 'pull', path: 'a-file' }, 'path', 'not a directory'],
    [
      { mode: 'pull', path: 'dangling' },
      'path',
      "'dangling' is a symlink to 'nowhere', which does not exist",
    ],
    [{ mode: 'cache', path: 'dangling', key: 'k' }, 'path', "'dangling' is a symlink to 'nowhere'"],
    [{ path: 'dangling' }, 'path', "'dangling' is a symlink to 'nowhere', which does not exist"],
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

  test('platform: os/arch[/variant] for push and pull, refused elsewhere, naming the input', () => {
    expect(parse({ path: '.', platform: 'linux/arm/v7' }).platform).toEqual({
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    })
    expect(parsePull({ mode: 'pull', platform: ' darwin/arm64 ' }).platform).toEqual({
      os: 'darwin',
      architecture: 'arm64',
    })
    expect(parse({ path: '.' }).platform).toBeUndefined()
    expect(refusal({ path: '.', platform: 'linux' }).message).toMatch(
      /^Input 'platform': 'linux' is not a platform/,
    )
    expect(refusal({ path: '.', platform: 'Linux/AMD64' }).input).toBe('platform')
    expect(refusal({ mode: 'cache', path: '.', key: 'k', platform: 'linux/amd64' }).input).toBe('platform')
    expect(refusal({ path: '.', format: 'oci-layout', platform: 'linux/amd64' }).input).toBe('platform')
  })

  test('a push tag must leave room for its platform tags', () => {
    const tag = 'v'.repeat(116)
    expect(parse({ path: '.', tag, platform: 'linux/amd64' }).tags).toEqual([tag])
    expect(refusal({ path: '.', tag: `${tag}x`, platform: 'linux/amd64' }).message).toMatch(
      /'tag': .* too long for platform tags: at most 116 characters/,
    )
  })

  test('overwrite defaults to true; false and bad values are read as booleans', () => {
    expect(parse({ path: '.' }).overwrite).toBe(true)
    expect(parse({ path: '.', overwrite: 'false' }).overwrite).toBe(false)
    expect(refusal({ path: '.', overwrite: 'no' }).input).toBe('overwrite')
  })
})

describe('max-layer-size', () => {
  test('defaults to 4GiB and takes the units people write', () => {
    expect(parse({ path: '.' }).maxLayerSize).toBe(4 * 2 ** 30)
    expect(parse({ path: '.', 'max-layer-size': '500MB' }).maxLayerSize).toBe(500e6)
  })

  test('a value that is no size, or below 1MiB, is refused naming the input', () => {
    expect(refusal({ path: '.', 'max-layer-size': 'big' }).message).toMatch(/Input 'max-layer-size': 'big'/)
    expect(refusal({ path: '.', 'max-layer-size': '512KiB' }).input).toBe('max-layer-size')
  })
})

describe('prune inputs', () => {
  test('no path needed; the current repository on ghcr.io; patterns, keep, older-than, dry-run', () => {
    const inputs = parsePrune({
      mode: 'prune',
      'tag-pattern': 'run-*, pr-*\nnightly-?',
      keep: '5',
      'older-than': '30d',
      'dry-run': 'true',
    })
    expect(inputs.registry).toBe('ghcr.io')
    expect(inputs.repository).toBe('octo-org/my-repo')
    expect(inputs).toMatchObject({
      tagPatterns: ['run-*', 'pr-*', 'nightly-?'],
      keep: 5,
      olderThanMs: 30 * 86_400_000,
      dryRun: true,
    })
  })

  test.each([
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['2w', 14 * 86_400_000],
  ])('older-than %s', (text, ms) => {
    expect(parsePrune({ mode: 'prune', 'older-than': text }).olderThanMs).toBe(ms)
  })

  test('keep: 0 is a choice: every match goes', () => {
    expect(parsePrune({ mode: 'prune', keep: '0' }).keep).toBe(0)
  })

  test.each([
    [{ mode: 'prune' }, 'keep', 'needs keep, older-than or both'],
    [{ mode: 'prune', keep: 'five' }, 'keep', "'five' is not a whole number"],
    [{ mode: 'prune', keep: '-1' }, 'keep', "'-1' is not a whole number"],
    [{ mode: 'prune', 'older-than': '30' }, 'older-than', "'30' is not a duration"],
    [{ mode: 'prune', 'older-than': '1y' }, 'older-than', "'1y' is not a duration"],
    [{ mode: 'prune', keep: '1', 'tag-pattern': 'run/*' }, 'tag-pattern', "'run/*' is not a glob over tags"],
    [{ mode: 'prune', keep: '1', 'dry-run': 'yes' }, 'dry-run', "'yes' is not true or false"],
  ])('refuses %j naming %s', (values, input, message) => {
    const error = refusal(values)
    expect(error.input).toBe(input)
    expect(error.message).toContain(message)
  })
})
