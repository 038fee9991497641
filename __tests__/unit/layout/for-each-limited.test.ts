import { describe, expect, test } from '@jest/globals'

import { forEachLimited } from '../../../src/oci/layout/for-each-limited.js'

describe('forEachLimited', () => {
  test('never has more than the limit in flight, and does every item', async () => {
    let inFlight = 0
    let most = 0
    const done: number[] = []
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      inFlight++
      most = Math.max(most, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
      done.push(item)
    })
    expect(most).toBe(3)
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7])
  })

  test('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = []
    const run = forEachLimited([1, 2, 3, 4, 5], 1, async (item) => {
      started.push(item)
      if (item === 2) throw new Error('item 2 failed')
    })
    await expect(run).rejects.toThrow('item 2 failed')
    expect(started).toEqual([1, 2])
  })

  test('rejects only after the tasks in flight have settled', async () => {
    let settled = 0
    const run = forEachLimited([1, 2, 3], 3, async (item) => {
      if (item === 1) throw new Error('item 1 failed')
      await new Promise((resolve) => setTimeout(resolve, 20))
      settled++
    })
    await expect(run).rejects.toThrow('item 1 failed')
    expect(settled).toBe(2)
  })
})
