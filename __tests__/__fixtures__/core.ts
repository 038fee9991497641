// The one stand-in for @actions/core, as actions/typescript-action's __fixtures__/core.ts: a test
// mocks the module with it (jest.unstable_mockModule('@actions/core', () => core)) before a dynamic
// import of the code under test, then reads what the action said, set and saved.
import { jest } from '@jest/globals'

export type Level = 'debug' | 'info' | 'notice' | 'warning' | 'error' | 'group'

/** Everything said, in order; a log group is an entry of its own, named. */
export const log: { level: Level; message: string }[] = []
export const outputs: Record<string, string> = {}
export const state: Record<string, string> = {}
/** The step's inputs, as `with:` gives them: what getInput answers. */
export const inputs: Record<string, string> = {}
/** What the job summary was given. */
export const summaries: string[] = []

const say = (level: Level) => (message: string | Error) =>
  void log.push({ level, message: message instanceof Error ? message.message : message })

export const debug = jest.fn(say('debug'))
export const info = jest.fn(say('info'))
export const notice = jest.fn(say('notice'))
export const warning = jest.fn(say('warning'))
export const error = jest.fn(say('error'))
export const setFailed = jest.fn(say('error'))
export const setSecret = jest.fn((_secret: string) => {})
export const getInput = jest.fn((name: string) => inputs[name] ?? '')
export const setOutput = jest.fn((name: string, value: unknown) => void (outputs[name] = String(value)))
export const saveState = jest.fn((name: string, value: unknown) => void (state[name] = String(value)))
export const getState = jest.fn((name: string) => state[name] ?? '')
export const group = jest.fn(async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  log.push({ level: 'group', message: name })
  return fn()
})
export const summary = {
  addRaw(markdown: string) {
    summaries.push(markdown)
    return summary
  },
  async write() {
    return summary
  },
}

/** The messages of one level, a line each. */
export function messages(level: Level): string {
  return log
    .filter((entry) => entry.level === level)
    .map((entry) => entry.message)
    .join('\n')
}

/** The log as a job log reads, debug left out: `group: NAME`, `warning: ...`, plain info lines. */
export function lines(): string[] {
  return log
    .filter((entry) => entry.level !== 'debug')
    .map((entry) =>
      entry.level === 'group' || entry.level === 'warning' || entry.level === 'error'
        ? `${entry.level}: ${entry.message}`
        : entry.message,
    )
}

/** Forgets everything said, set and given (call it in beforeEach). */
export function resetCore(): void {
  log.length = 0
  summaries.length = 0
  for (const record of [outputs, state, inputs]) for (const key of Object.keys(record)) delete record[key]
  jest.clearAllMocks()
}
