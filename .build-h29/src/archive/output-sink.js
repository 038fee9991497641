import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
// The end of the pack pipeline: hashes and counts the bytes as they go to `out`, so the layer's
// digest and size come from the same pass that writes it, and waits on `out` when it is full.
export class OutputSink {
    #out;
    // Whether `out` calling a write back means its bytes are gone. A file's callback comes after
    // write(2); a stream that says `copiesWrites` (the streamed upload's spill buffer) keeps copies
    // or files. A stream that passes bytes on (a PassThrough) calls back once its reader has taken
    // them, and that reader (the socket's write queue) may still hold them: such a buffer is never
    // handed back for reuse (a test saw the upload's bytes change).
    #callbackMeansWritten;
    #hash = createHash('sha256');
    #size = 0;
    #error;
    constructor(out) {
        this.#out = out;
        this.#callbackMeansWritten =
            out instanceof WriteStream || out.copiesWrites === true;
        // a write can fail after write() returned (disk full): keep the error for the next call
        // instead of letting an 'error' event without a listener take the process down
        out.on('error', (error) => (this.#error ??= error));
    }
    // `onWritten` runs once `out` is done with the bytes, so their buffer can be reused; never, when
    // `out` cannot tell (see above)
    async write(chunk, onWritten) {
        if (this.#error)
            throw this.#error;
        if (chunk.length === 0)
            return onWritten?.();
        this.#hash.update(chunk);
        this.#size += chunk.length;
        const written = this.#callbackMeansWritten && onWritten ? () => onWritten() : undefined;
        if (!this.#out.write(chunk, written))
            await this.#drained();
    }
    async end() {
        if (this.#error)
            throw this.#error;
        this.#out.end();
        // the writable side only: a stream that passes the bytes on (an upload's body) has taken them
        // all, and whoever reads them waits for its own end (the upload's response)
        await finished(this.#out, { readable: false });
        return { digest: `sha256:${this.#hash.digest('hex')}`, size: this.#size };
    }
    async #drained() {
        if (this.#error)
            throw this.#error;
        // `once` rejects on 'error', so a destination that fails while we wait does not hang the pack
        await once(this.#out, 'drain');
    }
}
