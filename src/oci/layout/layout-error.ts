/**
 * A layout that cannot be used as it is: the file is the one to look at (oci-layout, index.json or
 * a blob under blobs/), so the message and the property both name it.
 */
export class LayoutError extends Error {
  override name = 'LayoutError'
  readonly file: string

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options)
    this.file = file
  }
}
