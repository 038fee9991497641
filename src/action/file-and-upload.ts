import { finished } from 'node:stream/promises'
import { Writable } from 'node:stream'

/**
 * Where a cache's packed bytes go: every chunk to `file`, and while it lasts to `upload` too, so
 * the upload runs alongside the pack. The upload is dropped at its first failure and the pack goes
 * on: the file holds every byte for a second try. A failure of the file fails the pack.
 *
 * A chunk counts as written once both have it (its buffer may then be reused); `upload`'s own
 * buffer limit is the backpressure that keeps a fast pack from outrunning the network in memory.
 */
export class FileAndUpload extends Writable {
  readonly #file: Writable
  #upload: Writable | undefined
  readonly #onUploadFailed: (error: Error) => void

  constructor(file: Writable, upload: Writable | undefined, onUploadFailed: (error: Error) => void) {
    super()
    this.#file = file
    this.#upload = upload
    this.#onUploadFailed = onUploadFailed
    upload?.on('error', (error) => this.#drop(error))
    // the write that failed reports it too; this keeps the event from going unhandled
    file.on('error', (error) => this.destroy(error))
  }

  /** Whether every byte so far also went to the upload. */
  get uploading(): boolean {
    return this.#upload !== undefined
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let pending = this.#upload ? 2 : 1
    let fileError: Error | null | undefined
    const settle = () => {
      if (--pending === 0) callback(fileError)
    }
    this.#file.write(chunk, (error) => {
      fileError = error
      settle()
    })
    this.#upload?.write(chunk, (error) => {
      if (error) this.#drop(error)
      settle()
    })
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#upload?.end()
    this.#file.end()
    finished(this.#file).then(() => callback(), callback)
  }

  // also runs after a normal finish (autoDestroy), when there is nothing to undo
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) {
      this.#file.destroy(error)
      // the pack failed: the caller drops the upload session; no upload failure to report
      const upload = this.#upload
      this.#upload = undefined
      upload?.destroy(error)
    }
    callback(error)
  }

  #drop(error: Error): void {
    const upload = this.#upload
    if (!upload) return
    this.#upload = undefined
    upload.destroy()
    this.#onUploadFailed(error)
  }
}
