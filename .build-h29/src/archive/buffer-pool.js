// Reuses the 1 MiB chunk buffers that carry the tar through compression. Allocating a fresh one
// per chunk made V8 run a full GC every few chunks under external-memory pressure (30 mark-compacts
// and ~0.5 s of a 256 MiB pack) and let RSS grow with garbage not yet collected; recycling keeps
// the live set at the handful of chunks in flight.
export class BufferPool {
    #size;
    #free = [];
    #max;
    constructor(size, max = 16) {
        this.#size = size;
        this.#max = max;
    }
    get size() {
        return this.#size;
    }
    get() {
        return this.#free.pop() ?? Buffer.allocUnsafe(this.#size);
    }
    // only for a buffer nothing else still reads: its bytes will be overwritten
    release(buffer) {
        if (buffer.buffer.byteLength !== this.#size || buffer.byteOffset !== 0)
            return;
        if (this.#free.length < this.#max)
            this.#free.push(Buffer.from(buffer.buffer, 0, this.#size));
    }
}
