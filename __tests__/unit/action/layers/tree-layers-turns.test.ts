import { describe, expect, it } from '@jest/globals'
import { setTimeout as sleep } from 'node:timers/promises'
import { oneAtATime } from '../../../../src/action/layers/tree-layers.js'

describe("a split push's packs", () => {
  it('take turns: the next starts when the last has ended, failed or not', async () => {
    const turns = oneAtATime()
    const events: string[] = []
    const work = (name: string, fail = false) =>
      turns(async () => {
        events.push(`${name} starts`)
        await sleep(20)
        events.push(`${name} ends`)
        if (fail) throw new Error(`${name} failed`)
        return name
      })
    const results = await Promise.allSettled([work('a'), work('b', true), work('c')])
    expect(events).toEqual(['a starts', 'a ends', 'b starts', 'b ends', 'c starts', 'c ends'])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })
})
