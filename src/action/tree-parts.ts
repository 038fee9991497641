import { Annotation } from '../oci/annotations.js'
import type { Descriptor } from '../oci/descriptor.js'
import { MediaType } from '../oci/media-types.js'

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
 * Whether the manifest's layers are the parts of one tree: every layer says so, in order, 1 to n.
 * Layers that only some of which say it, or out of order, are refused rather than guessed at.
 */
export function isSplitTree(layers: Descriptor[]): boolean {
  const marked = layers.filter((layer) => layer.annotations?.[TREE_PART_ANNOTATION] !== undefined)
  if (marked.length === 0) return false
  layers.forEach((layer, i) => {
    const part = layer.annotations?.[TREE_PART_ANNOTATION]
    const tar =
      layer.mediaType === MediaType.LayerTarGzip && layer.annotations?.[Annotation.OrasUnpack] === 'true'
    if (part !== `${i + 1}/${layers.length}` || !tar) {
      throw new Error(
        `layer ${i + 1} (${layer.digest}) is not part ${i + 1}/${layers.length} of a split tree ` +
          `(${TREE_PART_ANNOTATION}: ${part ?? 'absent'}): refusing to pull`,
      )
    }
  })
  return true
}
