import { describe, expect, test } from '@jest/globals'

import { LayoutError, selectManifests, type Descriptor, type Layout } from '../../../src/oci/layout/index.js'
import { OCI_MANIFEST, REF_NAME } from './layout-fixture.js'

const manifest = (n: number, name?: string): Descriptor => ({
  mediaType: OCI_MANIFEST,
  digest: `sha256:${String(n).repeat(64)}`,
  size: 100 + n,
  ...(name === undefined ? {} : { annotations: { [REF_NAME]: name } }),
})
const layoutOf = (...manifests: Descriptor[]): Layout => ({
  dir: '/l',
  index: { schemaVersion: 2, manifests },
})

describe('selectManifests', () => {
  test('picks the manifest named like the tag among several', () => {
    const chosen = selectManifests(layoutOf(manifest(1, '1.0.0'), manifest(2, '2.0.0'), manifest(3)), '2.0.0')
    expect(chosen).toEqual([{ name: '2.0.0', descriptor: manifest(2, '2.0.0') }])
  })

  test('takes the only manifest, whatever its name, with or without a tag', () => {
    expect(selectManifests(layoutOf(manifest(1, '1.0.0')), 'latest')).toEqual([
      { name: '1.0.0', descriptor: manifest(1, '1.0.0') },
    ])
    expect(selectManifests(layoutOf(manifest(1)))).toEqual([{ name: undefined, descriptor: manifest(1) }])
  })

  test('without a tag takes every named manifest under its own name, leaving unnamed ones', () => {
    const chosen = selectManifests(layoutOf(manifest(1, 'a'), manifest(2), manifest(3, 'b')))
    expect(chosen.map((c) => c.name)).toEqual(['a', 'b'])
  })

  test('refuses what it would have to guess, naming index.json and the choices', () => {
    const expectRefusal = (layout: Layout, tag: string | undefined, message: RegExp) => {
      let error: unknown
      try {
        selectManifests(layout, tag)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(LayoutError)
      expect((error as LayoutError).file).toBe('/l/index.json')
      expect((error as LayoutError).message).toMatch(message)
    }
    expectRefusal(layoutOf(), undefined, /lists no manifests/)
    expectRefusal(
      layoutOf(manifest(1, 'a'), manifest(2)),
      'c',
      /no manifest is named "c"; the manifests are "a", \(unnamed\)/,
    )
    expectRefusal(layoutOf(manifest(1), manifest(2)), undefined, /none is named/)
    expectRefusal(layoutOf(manifest(1, 'a'), manifest(2, 'a')), undefined, /"a" names more than one/)
    expectRefusal(layoutOf(manifest(1, 'a'), manifest(2, 'a')), 'a', /2 manifests are named "a"/)
  })
})
