import { describe, expect, test } from '@jest/globals'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { InputError, type ReadInput } from '../../../../src/action/inputs/readers.js'
import { parsePullInputs } from '../../../../src/action/pull/inputs.js'

const workspace = mkdtempSync(path.join(os.tmpdir(), 'pull-inputs-'))
const env = { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_RUN_ID: '4242' }
const reader =
  (values: Record<string, string>): ReadInput =>
  (name) =>
    values[name] ?? ''
const parse = (values: Record<string, string>) => parsePullInputs(reader(values), env)

function refusal(values: Record<string, string>): string {
  try {
    parse(values)
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
  throw new Error('no refusal')
}

describe('pull inputs: several artifacts', () => {
  test('a tag with * ? or [ is a glob; a tag or digest is not', () => {
    expect(parse({ tag: 'reports-*' })).toMatchObject({
      reference: 'reports-*',
      glob: true,
      mergeMultiple: false,
    })
    expect(parse({ tag: 'shard-[0-9]', 'merge-multiple': 'true' })).toMatchObject({
      glob: true,
      mergeMultiple: true,
    })
    expect(parse({ tag: 'v1.4.0' })).toMatchObject({ reference: 'v1.4.0', glob: false })
    expect(parse({})).toMatchObject({ reference: 'run-4242', glob: false })
  })

  test('platform: all is every platform, not a platform named all', () => {
    expect(parse({ tag: 'v1', platform: 'all' })).toMatchObject({ allPlatforms: true, platform: undefined })
    expect(parse({ tag: 'v1', platform: 'linux/arm64' })).toMatchObject({
      allPlatforms: false,
      platform: { os: 'linux', architecture: 'arm64' },
    })
  })

  test('if-no-files-found is read for a glob that matches nothing', () => {
    expect(parse({ tag: 'x-*' }).ifNoFilesFound).toBe('warn')
    expect(parse({ tag: 'x-*', 'if-no-files-found': 'error' }).ifNoFilesFound).toBe('error')
    expect(refusal({ tag: 'x-*', 'if-no-files-found': 'fail' })).toBe(
      "Input 'if-no-files-found': 'fail' is not one of warn, error, ignore",
    )
  })

  test('what cannot work is refused naming the input', () => {
    expect(refusal({ tag: 'reports/*' })).toBe(
      "Input 'tag': 'reports/*' is not a glob over tags (tag characters and * ? [ ])",
    )
    expect(refusal({ tag: 'a-*,b-*' })).toBe("Input 'tag': pull takes one tag, digest or glob, got 'a-*,b-*'")
    expect(refusal({ tag: 'r-*', format: 'oci-layout' })).toBe(
      "Input 'tag': format 'oci-layout' takes one tag or digest, not the glob 'r-*'",
    )
    expect(refusal({ tag: 'v1', platform: 'all', format: 'oci-layout' })).toMatch(
      /^Input 'platform': 'all' cannot/,
    )
    expect(refusal({ tag: 'r-*', 'merge-multiple': 'yes' })).toBe(
      "Input 'merge-multiple': 'yes' is not true or false",
    )
  })
})
