import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { GZIP_HEADER } from './parallel-gzip.js';
// the gzip trailer (RFC 1952): CRC-32 and ISIZE, little-endian
const TRAILER = 8;
// inflated pieces as large as extraction uses: fewer hand-offs from the thread pool
const PIECE = 256 * 1024;
/**
 * The sha256 of what a gzip layer decompresses to, when it is framed exactly as our packer frames
 * one: our fixed header (no name, comment or extra field), one deflate stream, then a trailer whose
 * CRC-32 and size are right, and not one byte more. undefined otherwise. Streamed: nothing is
 * written and memory stays bounded. A re-push reuses a tagged layer only when this equals the
 * tree's tar digest, so the layer holds exactly our tar and no bytes anyone else chose beyond the
 * deflate encoding of it (which every gzip reader decodes to the same tar).
 */
export async function gzipContentDigest(source) {
    // as extraction does: large pieces in, large pieces out, so the pool is not woken per 16 KiB
    const inflate = zlib.createInflateRaw({
        chunkSize: PIECE,
        readableHighWaterMark: 4 * PIECE,
    });
    const hash = createHash('sha256');
    let crc = 0;
    let size = 0;
    let head;
    let tail = Buffer.alloc(0);
    let body = 0;
    // Splits off the header, joins the rest into pieces of about PIECE (one copy), and holds back
    // the last 8 bytes seen, which are the trailer once the source ends.
    async function* deflated(chunks) {
        let parts = [];
        let held = 0;
        let start = Buffer.alloc(0);
        for await (const chunk of chunks) {
            let rest = chunk;
            if (!head) {
                start = Buffer.concat([start, rest]);
                if (start.length < GZIP_HEADER.length)
                    continue;
                head = start.subarray(0, GZIP_HEADER.length);
                if (!head.equals(GZIP_HEADER))
                    return;
                rest = start.subarray(GZIP_HEADER.length);
            }
            parts.push(rest);
            held += rest.length;
            if (held < PIECE + TRAILER)
                continue;
            const joined = Buffer.concat(parts, held);
            body += held - TRAILER;
            yield joined.subarray(0, held - TRAILER);
            parts = [joined.subarray(held - TRAILER)];
            held = TRAILER;
        }
        const joined = Buffer.concat(parts, held);
        const cut = Math.max(0, held - TRAILER);
        tail = joined.subarray(cut);
        body += cut;
        if (cut > 0)
            yield joined.subarray(0, cut);
    }
    try {
        await pipeline(source, deflated, inflate, async (inflated) => {
            for await (const piece of inflated) {
                hash.update(piece);
                crc = zlib.crc32(piece, crc);
                size = (size + piece.length) >>> 0;
            }
        });
    }
    catch (error) {
        // another header (the source was let go), not a deflate stream, or one that does not end
        if (head && !head.equals(GZIP_HEADER))
            return undefined;
        if (String(error.code).startsWith('Z_'))
            return undefined;
        throw error;
    }
    if (!head?.equals(GZIP_HEADER) || tail.length !== TRAILER)
        return undefined;
    // inflateRaw stops at the end of the deflate stream: bytes between it and the trailer are junk
    if (inflate.bytesWritten !== body)
        return undefined;
    if (tail.readUInt32LE(0) !== crc >>> 0 || tail.readUInt32LE(4) !== size)
        return undefined;
    return `sha256:${hash.digest('hex')}`;
}
