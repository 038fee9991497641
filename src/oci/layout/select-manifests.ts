import path from 'node:path'

import type { Descriptor } from '../descriptor.js'
import { LayoutError } from './layout-error.js'
import { REF_NAME_ANNOTATION, type Layout } from './read-layout.js'

export interface SelectedManifest {
  /** The entry's org.opencontainers.image.ref.name, when it has one. */
  name: string | undefined
  descriptor: Descriptor
}

function describe(names: (string | undefined)[]): string {
  return names.map((n) => (n === undefined ? '(unnamed)' : JSON.stringify(n))).join(', ')
}

/**
 * Which of index.json's manifests to publish, as issue 8 puts it: the one named `tag`; else the only
 * one; else, with no tag asked for, every named one under its own name. Anything else is ambiguous
 * and refused rather than guessed.
 */
export function selectManifests(layout: Layout, tag?: string): SelectedManifest[] {
  const file = path.join(layout.dir, 'index.json')
  const entries = layout.index.manifests.map((descriptor) => ({
    name: descriptor.annotations?.[REF_NAME_ANNOTATION],
    descriptor,
  }))
  if (entries.length === 0) throw new LayoutError(file, 'lists no manifests')
  const names = entries.map((e) => e.name)

  if (tag !== undefined && tag !== '') {
    const matching = entries.filter((e) => e.name === tag)
    if (matching.length === 1) return matching
    if (matching.length > 1) {
      throw new LayoutError(
        file,
        `${matching.length} manifests are named ${JSON.stringify(tag)}; expected one`,
      )
    }
    if (entries.length === 1) return entries
    throw new LayoutError(
      file,
      `no manifest is named ${JSON.stringify(tag)}; the manifests are ${describe(names)}`,
    )
  }

  if (entries.length === 1) return entries
  const named = entries.filter((e) => e.name !== undefined)
  if (named.length === 0) {
    throw new LayoutError(
      file,
      `lists ${entries.length} manifests and none is named; give the tag to publish`,
    )
  }
  const seen = new Set<string>()
  for (const { name } of named) {
    if (seen.has(name as string)) {
      throw new LayoutError(
        file,
        `${JSON.stringify(name)} names more than one manifest; give the tag to publish`,
      )
    }
    seen.add(name as string)
  }
  return named
}
