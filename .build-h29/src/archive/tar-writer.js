import { closeSync, openSync, readSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Header, Pax } from 'tar';
const BLOCK = 512;
// largest size the octal header field holds (8 GiB - 1): beyond it the size also goes into PAX
const OCTAL_SIZE_LIMIT = 8 ** 11;
const EPOCH = new Date(0);
// Writes the tar stream of an already sorted tree with node-tar's Header and Pax encoders, reading
// file contents with synchronous reads straight into the outgoing chunk. node-tar's own Pack does
// a thread-pool round trip per open/read/close: on a 2-core runner that made packing a 256 MiB
// tree of 7,000 files take 4.1 s against 0.3 s for the same reads done synchronously, as GNU tar
// does. The event loop has nothing else to do meanwhile: compression runs on the pool.
export class TarWriter {
    #o;
    #chunk;
    #fill = 0;
    #block = Buffer.alloc(BLOCK);
    // dev:ino of files with several links -> the archive path of the first one, stored as a file
    #links = new Map();
    constructor(o) {
        if (o.pool.size % BLOCK !== 0)
            throw new Error('the chunk size must be a multiple of 512');
        this.#o = o;
        this.#chunk = o.pool.get();
    }
    // ORAS's layers open with the title directory's own entry
    async writePrefixDirectory() {
        if (this.#o.prefix)
            await this.#header({ path: `${this.#o.prefix}/`, type: 'Directory', mode: 0o755, size: 0 }, undefined);
    }
    async write(entry) {
        const name = this.#o.prefix ? `${this.#o.prefix}/${entry.relative}` : entry.relative;
        const absolute = path.join(this.#o.root, entry.relative);
        const mode = this.#o.mode(entry);
        if (entry.kind === 'directory')
            return this.#header({ path: `${name}/`, type: 'Directory', mode, size: 0 }, entry);
        if (entry.kind === 'symlink') {
            const linkpath = readlinkSync(absolute);
            return this.#header({ path: name, type: 'SymbolicLink', linkpath, mode, size: 0 }, entry);
        }
        if (entry.inode !== undefined) {
            const first = this.#links.get(entry.inode);
            if (first !== undefined)
                return this.#header({ path: name, type: 'Link', linkpath: first, mode, size: 0 }, entry);
            this.#links.set(entry.inode, name);
        }
        await this.#header({ path: name, type: 'File', mode, size: entry.size }, entry);
        await this.#body(absolute, entry.size);
    }
    // two zero blocks end the archive, and nothing after them: Go's archive/tar (ORAS) pads no
    // further, and the uncompressed digest ORAS annotates must be of exactly these bytes
    async end() {
        await this.#zeros(2 * BLOCK);
        if (this.#fill > 0)
            await this.#o.emit(this.#chunk.subarray(0, this.#fill));
    }
    #mtimeOf(entry) {
        if (this.#o.mtime !== 'preserve')
            return this.#o.mtime;
        return entry ? new Date(entry.mtime * 1000) : EPOCH;
    }
    async #header(data, entry) {
        const mtime = this.#mtimeOf(entry);
        const full = { ...data, uid: 0, gid: 0, uname: '', gname: '', mtime };
        // encode once into a scratch block to learn whether the names need a PAX record first
        const header = new Header(full);
        // one block, zeroed and reused for every header (its bytes are copied out before any await):
        // a fresh one per entry was garbage for every file of the tree
        const block = this.#block.fill(0);
        const needPax = header.encode(block, 0);
        if (needPax) {
            const size = (data.size ?? 0) >= OCTAL_SIZE_LIMIT ? data.size : undefined;
            const pax = new Pax({ path: data.path, linkpath: data.linkpath, size, mtime }).encode();
            await this.#append(pax);
        }
        await this.#append(block);
    }
    async #append(bytes) {
        let offset = 0;
        while (offset < bytes.length) {
            const take = Math.min(bytes.length - offset, this.#chunk.length - this.#fill);
            bytes.copy(this.#chunk, this.#fill, offset, offset + take);
            this.#fill += take;
            offset += take;
            await this.#flushIfFull();
        }
    }
    async #zeros(length) {
        while (length > 0) {
            const take = Math.min(length, this.#chunk.length - this.#fill);
            this.#chunk.fill(0, this.#fill, this.#fill + take);
            this.#fill += take;
            length -= take;
            await this.#flushIfFull();
        }
    }
    async #body(file, size) {
        if (size === 0)
            return;
        const fd = openSync(file, 'r');
        try {
            let remaining = size;
            while (remaining > 0) {
                const want = Math.min(remaining, this.#chunk.length - this.#fill);
                const read = readSync(fd, this.#chunk, this.#fill, want, null);
                // a file that shrank under us would leave a hole in the archive: refuse rather than pad
                if (read === 0)
                    throw new Error(`${file} shrank while it was being packed (expected ${size} bytes)`);
                this.#fill += read;
                remaining -= read;
                await this.#flushIfFull();
            }
        }
        finally {
            closeSync(fd);
        }
        const padding = (BLOCK - (size % BLOCK)) % BLOCK;
        await this.#zeros(padding);
    }
    async #flushIfFull() {
        if (this.#fill < this.#chunk.length)
            return;
        const full = this.#chunk;
        this.#chunk = this.#o.pool.get();
        this.#fill = 0;
        await this.#o.emit(full);
    }
}
