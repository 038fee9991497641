import { Header, Pax } from 'tar';
import { ArchiveEntryError, ArchiveFormatError } from './errors.js';
const BLOCK = 512;
// PAX records and GNU long names are small; a bigger one is an attack on memory, not a name
const MAX_META_SIZE = 1024 * 1024;
const KIND = {
    File: 'file',
    OldFile: 'file',
    ContiguousFile: 'file',
    Directory: 'directory',
    SymbolicLink: 'symlink',
    Link: 'hardlink',
};
// A push parser over node-tar's Header and Pax decoders that hands entries to a synchronous
// handler, so the caller decides what is written and backpressure is simply the caller's loop.
// Understands ustar, PAX (x, g) and GNU long names (L, K); every other entry type (devices,
// FIFOs, sparse files, ...) is refused, as is any non-file entry that carries a body, since
// readers disagree on whether to skip it (a classic way to smuggle entries past one of them).
export class TarReader {
    #handler;
    #pending;
    #state = 'header';
    #remaining = 0;
    #padding = 0;
    #meta = [];
    #metaType = '';
    #ex;
    #gex;
    #bytes = 0;
    constructor(handler) {
        this.#handler = handler;
    }
    get bytes() {
        return this.#bytes;
    }
    push(chunk) {
        this.#bytes += chunk.length;
        let at = 0;
        if (this.#pending) {
            // a header cut by a piece's end is completed from the next piece, without copying the rest
            // of that piece (up to 1 MiB) into a new buffer
            const need = BLOCK - this.#pending.length;
            if (chunk.length < need) {
                this.#pending = Buffer.concat([this.#pending, chunk]);
                return;
            }
            const block = Buffer.concat([this.#pending, chunk.subarray(0, need)], BLOCK);
            this.#pending = undefined;
            this.#header(block);
            at = need;
        }
        while (at < chunk.length) {
            switch (this.#state) {
                case 'eof':
                    // GNU tar pads to 10 KiB records after the end blocks; nothing there is read
                    return;
                case 'header': {
                    if (chunk.length - at < BLOCK) {
                        this.#pending = Buffer.from(chunk.subarray(at));
                        return;
                    }
                    this.#header(chunk.subarray(at, at + BLOCK));
                    at += BLOCK;
                    break;
                }
                case 'body':
                case 'meta': {
                    const take = Math.min(this.#remaining, chunk.length - at);
                    const piece = chunk.subarray(at, at + take);
                    if (this.#state === 'body')
                        this.#handler.data(piece);
                    else
                        this.#meta.push(Buffer.from(piece));
                    this.#remaining -= take;
                    at += take;
                    if (this.#remaining === 0)
                        this.#finishBody();
                    break;
                }
                case 'padding': {
                    const take = Math.min(this.#padding, chunk.length - at);
                    this.#padding -= take;
                    at += take;
                    if (this.#padding === 0)
                        this.#state = 'header';
                    break;
                }
            }
        }
    }
    end() {
        if (this.#state !== 'eof')
            throw new ArchiveFormatError('the archive is truncated: it ends before its end-of-archive block');
    }
    #header(block) {
        if (block.every((byte) => byte === 0)) {
            // the first zero block ends the archive, as for GNU tar; what follows is record padding
            this.#state = 'eof';
            return;
        }
        const header = this.#decode(block);
        const name = this.#ex?.path ?? header.path ?? '';
        if (!header.cksumValid)
            throw new ArchiveFormatError(`not a tar archive, or a damaged one (bad header checksum near "${name}")`);
        const size = header.size ?? 0;
        const type = header.type;
        if (type === 'ExtendedHeader' || type === 'GlobalExtendedHeader' || type.startsWith('NextFileHasLong')) {
            if (size > MAX_META_SIZE)
                throw new ArchiveEntryError(name, `a ${size}-byte ${type} record is refused`);
            this.#metaType = type;
            this.#meta = [];
            this.#startBody('meta', size);
            return;
        }
        const kind = KIND[type];
        if (kind === undefined)
            throw new ArchiveEntryError(name, `${type} entries are refused`);
        const entry = {
            path: name,
            kind,
            mode: (header.mode ?? 0o644) & 0o7777,
            size: kind === 'file' ? size : 0,
            mtime: header.mtime ? header.mtime.getTime() / 1000 : undefined,
        };
        if (kind === 'symlink' || kind === 'hardlink') {
            entry.linkpath = this.#ex?.linkpath ?? header.linkpath;
            if (!entry.linkpath)
                throw new ArchiveEntryError(name, `a ${type} without a target`);
        }
        // node-tar reports 0 for a directory whatever its size field says: read the field itself
        if (kind !== 'file' && (size !== 0 || (this.#ex?.size ?? 0) !== 0 || rawSizeField(block) !== 0)) {
            throw new ArchiveEntryError(name, `a ${type} entry with a body is refused`);
        }
        this.#ex = undefined;
        this.#handler.entry(entry);
        this.#startBody('body', entry.size);
    }
    // node-tar throws a plain Error for a base-256 number it cannot read (found by fuzzing)
    #decode(block) {
        try {
            return new Header(block, 0, this.#ex, this.#gex);
        }
        catch (cause) {
            const name = this.#ex?.path ?? block.toString('utf8', 0, 100).replace(/\0.*/s, '');
            throw new ArchiveFormatError(`not a tar archive, or a damaged one (a numeric field of the header near "${name}": ${cause.message})`, { cause });
        }
    }
    #startBody(state, size) {
        this.#padding = (BLOCK - (size % BLOCK)) % BLOCK;
        if (size === 0) {
            this.#state = state;
            this.#remaining = 0;
            this.#finishBody();
            return;
        }
        this.#state = state;
        this.#remaining = size;
    }
    #finishBody() {
        if (this.#state === 'body') {
            this.#handler.endEntry();
        }
        else {
            const body = Buffer.concat(this.#meta);
            this.#meta = [];
            const text = body.toString('utf8');
            switch (this.#metaType) {
                case 'ExtendedHeader':
                    this.#ex = Pax.parse(text, this.#ex, false);
                    break;
                case 'GlobalExtendedHeader':
                    this.#gex = Pax.parse(text, this.#gex, true);
                    break;
                case 'NextFileHasLongPath':
                    this.#ex = { ...this.#ex, path: text.replace(/\0.*/s, '') };
                    break;
                case 'NextFileHasLongLinkpath':
                    this.#ex = { ...this.#ex, linkpath: text.replace(/\0.*/s, '') };
                    break;
            }
        }
        this.#state = this.#padding > 0 ? 'padding' : 'header';
    }
}
// the header's own size field (octal, or base-256 when its first byte has the high bit set)
function rawSizeField(block) {
    const field = block.subarray(124, 136);
    if (field[0] & 0x80)
        return 1;
    const text = field.toString('ascii').replace(/[\0 ]/g, '');
    return text === '' ? 0 : parseInt(text, 8) || 0;
}
