// An archive entry we refuse to write (path traversal, a write through a symlink, a device...), or
// an archive that breaks the tar format. `entry` is the path as the archive spelled it.
export class ArchiveEntryError extends Error {
    entry;
    constructor(entry, reason, options) {
        super(`archive entry ${JSON.stringify(entry)}: ${reason}`, options);
        this.name = 'ArchiveEntryError';
        this.entry = entry;
    }
}
// The archive as a whole is not what was promised: truncated, not tar, or not the expected digest.
export class ArchiveFormatError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = 'ArchiveFormatError';
    }
}
