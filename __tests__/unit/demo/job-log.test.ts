import { describe, expect, it } from '@jest/globals'
import { renderLog, renderMarkdown, renderOutputs, renderStepHeader } from '../../../scripts/job-log.js'

describe('the demo shows a step as a GitHub job log does', () => {
  it('groups become headings with their lines under them, and no workflow command is printed', () => {
    const stdout = [
      '::add-mask::s3cr3t',
      'Pushing to registry.test/alice/demo',
      '::group::Pack',
      'Packed 4 entries',
      '::endgroup::',
      '::debug::GET /v2/ -> 401',
      '::set-output name=x::y',
      'done',
      '',
    ].join('\n')
    expect(renderLog(stdout)).toBe(
      ['Pushing to registry.test/alice/demo', '▼ Pack', '  Packed 4 entries', 'done'].join('\n'),
    )
  })

  it('masks every value an ::add-mask:: named, and the secrets it is given, in later lines', () => {
    const stdout = '::add-mask::tok%25en\nlogin with tok%en\n::warning::token tok%en refused\nuser alice\n'
    expect(renderLog(stdout, { secrets: ['alice'] })).toBe(
      'login with ***\nWarning: token *** refused\nuser ***',
    )
  })

  it('shows annotations as the log does, with their escaped newlines, and debug lines on request', () => {
    const stdout = '::error title=Push::denied%0Asecond line\n::notice::saved\n::debug::detail\n'
    expect(renderLog(stdout)).toBe('Error: denied\nsecond line\nNotice: saved')
    expect(renderLog(stdout, { debug: true })).toContain('##[debug]detail')
  })

  it('prints the step header with its inputs, a secret input as ***', () => {
    expect(renderStepHeader('o/a@v1', { mode: 'push', token: 'tok' }, { secrets: ['tok'] })).toBe(
      'Run o/a@v1\n  with:\n    mode: push\n    token: ***',
    )
  })

  it('lists outputs as later steps name them', () => {
    expect(renderOutputs('push', { digest: 'sha256:ab', ref: 'r@sha256:ab' })).toBe(
      'steps.push.outputs.digest  sha256:ab\nsteps.push.outputs.ref     r@sha256:ab',
    )
  })

  it('draws the summary: a heading, the table in columns without its empty header, code indented', () => {
    const md = [
      '## Pushed `registry.test/alice/demo`',
      '',
      '| | |',
      '|---|---|',
      '| Reference | `r@sha256:ab` |',
      '| Tags | `v1.0.0`, `latest` |',
      '| Note | a \\| b |',
      '',
      '```yaml',
      '- uses: o/a@v1',
      '```',
    ].join('\n')
    expect(renderMarkdown(md)).toBe(
      [
        'Pushed registry.test/alice/demo',
        '───────────────────────────────',
        '',
        'Reference  r@sha256:ab',
        'Tags       v1.0.0, latest',
        'Note       a | b',
        '',
        '    - uses: o/a@v1',
      ].join('\n'),
    )
  })
})
