import { jest, test, expect } from '@jest/globals'

const info = jest.fn()
jest.unstable_mockModule('@actions/core', () => ({
  getInput: (name: string) => (name === 'mode' ? 'pull' : ''),
  info,
  setFailed: jest.fn(),
  warning: jest.fn(),
}))
const { run } = await import('../../src/action/main.js')

test('runs on Node 24 with @actions/core mocked', async () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(24)
  await run()
  expect(info).toHaveBeenCalledWith('oci-artifact-action: mode pull')
})
