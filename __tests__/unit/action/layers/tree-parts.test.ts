import { describe, expect, test } from '@jest/globals'
import { parseByteSize } from '../../../../src/action/inputs/readers.js'
import {
  groupParts,
  isSplitTree,
  partAnnotation,
  partTitle,
} from '../../../../src/action/layers/tree-parts.js'
import type { Descriptor } from '../../../../src/oci/descriptor.js'
import { MediaType } from '../../../../src/oci/media-types.js'

const part = (i: number, n: number, extra: Record<string, string> = {}): Descriptor => ({
  mediaType: MediaType.LayerTarGzip,
  digest: `sha256:${String(i).repeat(64)}`,
  size: 1,
  annotations: {
    'io.deis.oras.content.unpack': 'true',
    'org.opencontainers.image.title': partTitle('dist', i, n),
    ...partAnnotation(i, n),
    ...extra,
  },
})

describe('the parts of a split tree', () => {
  test('are titled and numbered from 1', () => {
    expect(partTitle('dist', 0, 3)).toBe('dist.part-1-of-3')
    expect(partAnnotation(2, 3)).toEqual({ 'io.github.oci-artifact-action.tree.part': '3/3' })
  })

  test('a manifest whose layers are parts 1..n in order is one tree; ordinary layers are not', () => {
    expect(isSplitTree([part(0, 3), part(1, 3), part(2, 3)])).toBe(true)
    expect(isSplitTree([{ ...part(0, 1), annotations: { 'org.opencontainers.image.title': 'dist' } }])).toBe(
      false,
    )
  })

  test('parts missing, out of order or mixed with other layers are refused, not guessed at', () => {
    expect(() => isSplitTree([part(1, 2), part(0, 2)])).toThrow(/layer 1 .* is out of place as part 2\/2/)
    expect(() => isSplitTree([part(0, 3), part(1, 3)])).toThrow(/starts 3 parts, but the manifest ends first/)
    expect(() => isSplitTree([part(0, 2), { ...part(1, 2), annotations: {} }])).toThrow(
      /layer 2 .* out of place/,
    )
    expect(() => isSplitTree([part(0, 2), part(1, 2), part(0, 2), part(1, 2)])).toThrow(
      /not the parts of one tree/,
    )
  })

  test("a cache's layers group into trees: its parts together, every other path alone", () => {
    const plain = { ...part(0, 1), annotations: {} }
    expect(groupParts([plain, part(0, 2), part(1, 2), plain])).toEqual([
      [plain],
      [part(0, 2), part(1, 2)],
      [plain],
    ])
  })
})

describe('max-layer-size values', () => {
  test.each([
    ['4GiB', 4 * 2 ** 30],
    ['500MB', 500e6],
    ['1.5 GiB', 1.5 * 2 ** 30],
    ['1048576', 2 ** 20],
    ['2mib', 2 * 2 ** 20],
  ])('%s', (text, bytes) => expect(parseByteSize(text)).toBe(bytes))

  test.each(['', 'four', '4 gigs', '-1MiB', '1e9'])('%j is not a size', (text) =>
    expect(parseByteSize(text)).toBeUndefined(),
  )
})
