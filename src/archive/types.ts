export type Compression = 'gzip' | 'zstd' | 'none'

export interface PackOptions {
  compression: Compression
  // gzip 1-9 (default 6, what `gzip` itself defaults to), zstd 1-22 (default 3, zstd's default)
  level?: number
  // ORAS's org.opencontainers.image.title: every entry sits under `<prefix>/`
  prefix?: string
  // `.git` holds the job's token after actions/checkout, so it stays out unless asked for
  includeGit?: boolean
  // names starting with `.` (default true: a cache keeps them; a push leaves them out unless asked)
  includeHidden?: boolean
  // only these paths below the directory (relative, each descendant listed, as a glob matches them)
  // and the directories leading to them; includeHidden does not apply, the caller filtered them
  select?: string[]
  // every entry's mtime; the caller passes SOURCE_DATE_EPOCH when set, else the Unix epoch is used.
  // 'preserve' stores each entry's own mtime in whole seconds, as actions/cache's tar does, so
  // build tools see the saved times after a restore; an unchanged tree restored with them packs to
  // the same digest again (sub-second parts never travel)
  mtime?: Date | 'preserve'
  // false skips the sha256 of the uncompressed tar, main-thread work, for callers that never
  // compare it: the result then has no uncompressedDigest
  hashTar?: boolean
}

export interface PackResult {
  digest: string
  size: number
  // the tar's own digest (ORAS's content digest); absent when packed with hashTar: false
  uncompressedDigest?: string
  uncompressedSize: number
  // non-directory entries: regular files, hard links and symlinks
  files: number
}

// what digestDirectory needs: the tar's shape, nothing about compression
export interface DigestOptions extends Omit<PackOptions, 'compression' | 'level' | 'hashTar'> {
  // stops the digest (which then rejects with the signal's reason)
  signal?: AbortSignal
}

export interface TarDigest {
  uncompressedDigest: string
  uncompressedSize: number
  files: number
}

export interface ExtractOptions {
  compression: Compression
  // ORAS layers keep every entry under `<title>/`: strip it so the contents land in dest
  stripPrefix?: string
  expectedUncompressedDigest?: string
  // give files, symlinks and directories the archive's mtimes (cache mode, as actions/cache's tar
  // does); by default they get the extraction time (pull mode), since a pushed layer holds a fixed
  // mtime for reproducibility and build tools must see pulled files as new
  restoreMtimes?: boolean
  // refuse entries that differ only by case or Unicode normalization (default: on macOS and
  // Windows, whose file systems take them for one path); tests set it to check those rules anywhere
  caseInsensitive?: boolean
  // refuse names Windows cannot hold (`x:y`, `aux.txt`, a trailing dot; windows-names.ts), default
  // on Windows only: elsewhere they are plain names
  windowsNames?: boolean
}

export interface ExtractResult {
  // non-directory entries: regular files, hard links and symlinks
  files: number
  uncompressedSize: number
}
