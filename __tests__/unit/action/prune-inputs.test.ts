import { describe, expect, test } from '@jest/globals'
import { InputError, parseInputs } from '../../../src/action/inputs.js'

const env = { GITHUB_WORKSPACE: '/tmp', GITHUB_REPOSITORY: 'Octo-Org/My-Repo', GITHUB_RUN_ID: '4242' }

function parse(values: Record<string, string>) {
  return parseInputs((name) => values[name] ?? '', env)
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

describe('prune inputs', () => {
  test('no path needed; the current repository on ghcr.io; patterns, keep, older-than, dry-run', () => {
    const inputs = parse({
      mode: 'prune',
      'tag-pattern': 'run-*, pr-*\nnightly-?',
      keep: '5',
      'older-than': '30d',
      'dry-run': 'true',
    })
    expect(inputs.registry).toBe('ghcr.io')
    expect(inputs.repository).toBe('octo-org/my-repo')
    expect(inputs.prune).toEqual({
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
    expect(parse({ mode: 'prune', 'older-than': text }).prune.olderThanMs).toBe(ms)
  })

  test('keep: 0 is a choice: every match goes', () => {
    expect(parse({ mode: 'prune', keep: '0' }).prune.keep).toBe(0)
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
