import { walkEntries } from './walk.js';
// What a tar spends on an entry besides its data: one 512-byte header (PAX names add more, which
// the bound below leaves as slack).
const HEADER = 512;
const BLOCK = 512;
/**
 * The tree as packDirectory would pack it (same walk, same order), cut at entry boundaries into
 * parts whose tar stays within `maxBytes` each: undefined when the whole tree fits in one. Each
 * part is a `select` list for packDirectory: its entries in tree order (directories included, so
 * empty ones travel; the folders leading to an entry come with it in every part that needs them).
 * A file larger than `maxBytes` is a part of its own. The cut depends only on the tree, so the
 * same tree gives the same parts, and each part the same digest.
 */
export function splitTree(dir, maxBytes, o) {
    // walked twice rather than listed once: the common tree fits, and is then never held in memory
    return fits(walkEntries(dir, o), maxBytes) ? undefined : cut(walkEntries(dir, o), maxBytes);
}
export function splitEntries(entries, maxBytes) {
    return fits(entries, maxBytes) ? undefined : cut(entries, maxBytes);
}
const cost = (e) => HEADER + Math.ceil(e.size / BLOCK) * BLOCK;
function fits(entries, maxBytes) {
    let total = 0;
    for (const entry of entries) {
        total += cost(entry);
        if (total > maxBytes)
            return false;
    }
    return true;
}
function cut(entries, maxBytes) {
    const parts = [];
    let part = [];
    let bytes = 0;
    for (const entry of entries) {
        if (part.length > 0 && bytes + cost(entry) > maxBytes) {
            parts.push(part);
            part = [];
            bytes = 0;
        }
        part.push(entry.relative);
        bytes += cost(entry);
    }
    if (part.length > 0)
        parts.push(part);
    return parts;
}
