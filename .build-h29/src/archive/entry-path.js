import { ArchiveEntryError } from './errors.js';
// Turns a path as an archive spells it into a safe path relative to the destination, `/`-separated,
// or undefined for the archive's root itself (`./`, or `<prefix>/` when stripping a prefix).
// Refuses absolute paths (`/x`, `\x`, `C:x`), `..` components, NUL bytes, and, with stripPrefix,
// anything outside `<prefix>/`. Backslashes count as separators here, so a name that is harmless
// on Linux cannot become a traversal when the same archive is extracted on Windows.
export function safeRelativePath(raw, stripPrefix) {
    if (raw.includes('\0'))
        throw new ArchiveEntryError(raw, 'the path holds a NUL byte');
    if (/^[/\\]/.test(raw) || /^[A-Za-z]:/.test(raw))
        throw new ArchiveEntryError(raw, 'absolute paths are refused');
    const parts = raw.split(/[/\\]+/).filter((part) => part !== '' && part !== '.');
    if (parts.includes('..'))
        throw new ArchiveEntryError(raw, '".." components are refused');
    if (stripPrefix !== undefined) {
        const prefixParts = stripPrefix.split('/').filter((part) => part !== '' && part !== '.');
        for (const [i, part] of prefixParts.entries()) {
            if (parts[i] !== part)
                throw new ArchiveEntryError(raw, `the entry is outside the layer's "${stripPrefix}/"`);
        }
        parts.splice(0, prefixParts.length);
    }
    return parts.length === 0 ? undefined : parts.join('/');
}
// `a/b/c` -> [`a`, `a/b`]
export function ancestorsOf(relative) {
    const out = [];
    let at = relative.indexOf('/');
    while (at !== -1) {
        out.push(relative.slice(0, at));
        at = relative.indexOf('/', at + 1);
    }
    return out;
}
