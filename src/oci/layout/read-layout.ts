import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'

import { Annotation } from '../annotations.js'
import type { Descriptor } from '../descriptor.js'
import { LayoutError } from './layout-error.js'
import { parseDescriptor, parseJsonObject } from './parse-descriptor.js'

// The only version of the image layout spec there is (image-spec v1.0 and v1.1 both write 1.0.0).
export const IMAGE_LAYOUT_VERSION = '1.0.0'
export const REF_NAME_ANNOTATION = Annotation.RefName

// index.json is JSON read whole; this cap (the size limit Distribution puts on a manifest) keeps
// a hostile or mistaken multi-gigabyte file from being loaded into memory.
export const MAX_INDEX_BYTES = 4 * 1024 * 1024

/** index.json as read: schemaVersion 2 and its manifests, every other field kept as found. */
export interface LayoutIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
  [field: string]: unknown
}

export interface Layout {
  dir: string
  index: LayoutIndex
}

/** The size of a regular file, or undefined when there is none at that path. */
export async function fileSizeOf(file: string): Promise<number | undefined> {
  try {
    const info = await stat(file)
    return info.isFile() ? info.size : undefined
  } catch {
    return undefined
  }
}

/** What `format: auto` asks: does this folder look like an OCI image layout (it may still be broken). */
export async function isLayout(dir: string): Promise<boolean> {
  const sizes = await Promise.all([
    fileSizeOf(path.join(dir, 'oci-layout')),
    fileSizeOf(path.join(dir, 'index.json')),
  ])
  return sizes.every((size) => size !== undefined)
}

export async function readSmallFile(file: string, limit: number): Promise<Buffer> {
  let size: number
  try {
    size = (await stat(file)).size
  } catch (cause) {
    throw new LayoutError(file, 'is missing', { cause })
  }
  if (size > limit) throw new LayoutError(file, `is ${size} bytes, more than the ${limit} allowed`)
  return readFile(file)
}

export async function readLayoutMarker(dir: string): Promise<void> {
  const file = path.join(dir, 'oci-layout')
  const marker = parseJsonObject(await readSmallFile(file, 64 * 1024), file)
  if (marker.imageLayoutVersion !== IMAGE_LAYOUT_VERSION) {
    throw new LayoutError(
      file,
      `imageLayoutVersion is ${JSON.stringify(marker.imageLayoutVersion)}, expected "${IMAGE_LAYOUT_VERSION}"`,
    )
  }
}

export function parseIndex(bytes: Buffer, file: string): LayoutIndex {
  const index = parseJsonObject(bytes, file)
  if (index.schemaVersion !== 2) {
    throw new LayoutError(file, `schemaVersion is ${JSON.stringify(index.schemaVersion)}, expected 2`)
  }
  if (!Array.isArray(index.manifests)) throw new LayoutError(file, 'has no manifests array')
  index.manifests.forEach((entry, i) => parseDescriptor(entry, file, `manifests[${i}]`))
  return index as LayoutIndex
}

/** Reads and validates oci-layout and index.json; blobs are checked later, by verifyLayout. */
export async function readLayout(dir: string): Promise<Layout> {
  await readLayoutMarker(dir)
  const file = path.join(dir, 'index.json')
  return { dir, index: parseIndex(await readSmallFile(file, MAX_INDEX_BYTES), file) }
}
