import { describe, expect, it } from '@jest/globals'
import {
  GC_INTERVAL_VARIABLE,
  gcIntervalFrom,
  paceGarbageCollection,
} from '../../../../src/action/runner/process.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('paceGarbageCollection', () => {
  it('frees dead buffers while it runs, and stops when told', async () => {
    const stop = paceGarbageCollection(2)
    try {
      const before = process.memoryUsage().arrayBuffers
      // 16 MiB of buffers that nothing references once the loop is over, as socket reads leave
      // them: too little for V8 to collect on its own account (checked: without the pacer they
      // were all still there after the same wait)
      for (let i = 0; i < 16; i++) Buffer.allocUnsafeSlow(1024 * 1024).fill(i)
      let after = process.memoryUsage().arrayBuffers
      for (let i = 0; i < 40 && after - before > 4 * 1024 * 1024; i++) {
        await sleep(5)
        after = process.memoryUsage().arrayBuffers
      }
      expect(after - before).toBeLessThan(4 * 1024 * 1024)
    } finally {
      stop()
    }
  })

  it('does nothing for an interval of 0', () => {
    const stop = paceGarbageCollection(0)
    expect(stop()).toBeUndefined()
  })
})

describe('gcIntervalFrom: the pacer is an opt-in', () => {
  it('is off when the variable is unset or empty', () => {
    expect(gcIntervalFrom({})).toBe(0)
    expect(gcIntervalFrom({ [GC_INTERVAL_VARIABLE]: '' })).toBe(0)
    expect(gcIntervalFrom({ [GC_INTERVAL_VARIABLE]: '0' })).toBe(0)
  })

  it('takes a whole number of milliseconds', () => {
    expect(gcIntervalFrom({ [GC_INTERVAL_VARIABLE]: ' 10 ' })).toBe(10)
  })

  it.each(['ten', '2.5', '-1', '1001'])('refuses %j, naming the variable', (value) => {
    expect(() => gcIntervalFrom({ [GC_INTERVAL_VARIABLE]: value })).toThrow(
      new RegExp(`${GC_INTERVAL_VARIABLE} must be .*"${value.replace('.', '\\.')}"`),
    )
  })
})
