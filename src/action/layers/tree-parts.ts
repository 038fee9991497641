import { Annotation } from '../../oci/annotations.js'
import type { Descriptor } from '../../oci/descriptor.js'
import { MediaType } from '../../oci/media-types.js'

// A directory too large for one layer goes up as several, each a tar+gzip of a disjoint part of
// the tree (cut at file boundaries), applied in order into one directory as image layers are.
// Each part is an ORAS directory layer of its own (title `<name>.part-<i>-of-<n>`, its entries
// under that title), so `oras pull` saves the parts side by side; this annotation, `<i>/<n>`, is
// what tells our pull to put them back together as the one tree `<name>`.
export const TREE_PART_ANNOTATION = 'io.github.oci-artifact-action.tree.part'

export function partTitle(title: string, index: number, count: number): string {
  return `${title}.part-${index + 1}-of-${count}`
}

export function partAnnotation(index: number, count: number): Record<string, string> {
  return { [TREE_PART_ANNOTATION]: `${index + 1}/${count}` }
}

/**
 * Whether the manifest's layers are the parts of one tree (every layer says so, in order, 1 to n,
 * each an ORAS directory layer). A manifest in which only some layers say it, or out of order, is
 * refused rather than guessed at.
 */
export function isSplitTree(layers: Descriptor[]): boolean {
  if (!layers.some((layer) => layer.annotations?.[TREE_PART_ANNOTATION] !== undefined)) return false
  const groups = groupParts(layers)
  if (groups.length !== 1) throw new Error(`the layers are not the parts of one tree: refusing to pull`)
  for (const layer of layers) {
    if (layer.mediaType !== MediaType.LayerTarGzip || layer.annotations?.[Annotation.OrasUnpack] !== 'true')
      throw new Error(
        `part ${layer.annotations?.[TREE_PART_ANNOTATION]} (${layer.digest}) is not a directory layer`,
      )
  }
  return true
}

/**
 * The layers as the trees they restore: parts 1 to n of one tree, in a row, make one group; every
 * other layer is a group of its own. A part out of its place is refused.
 */
export function groupParts(layers: Descriptor[]): Descriptor[][] {
  const groups: Descriptor[][] = []
  for (let i = 0; i < layers.length;) {
    const first = layers[i] as Descriptor
    const count = Number(/^1\/([0-9]+)$/.exec(first.annotations?.[TREE_PART_ANNOTATION] ?? '')?.[1] ?? 1)
    const group = layers.slice(i, i + count)
    group.forEach((layer, j) => {
      const part = layer.annotations?.[TREE_PART_ANNOTATION]
      if (count > 1 ? part !== `${j + 1}/${count}` : part !== undefined) {
        throw new Error(`layer ${i + j + 1} (${layer.digest}) is out of place as part ${part ?? '(none)'}`)
      }
    })
    if (group.length < count)
      throw new Error(`layer ${i + 1} (${first.digest}) starts ${count} parts, but the manifest ends first`)
    groups.push(group)
    i += count
  }
  return groups
}
