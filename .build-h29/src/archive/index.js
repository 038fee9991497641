// The archive room's public surface: directory <-> tar layer, no GitHub, no HTTP.
export { digestDirectory, packDirectory, packDirectoryToFile, normalizedMode } from './pack.js';
export { extractToDirectory } from './extract.js';
export { ArchiveEntryError, ArchiveFormatError } from './errors.js';
