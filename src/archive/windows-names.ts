import { ArchiveEntryError } from './errors.js'

// What Windows cannot hold as a file or folder name, from Microsoft's "Naming Files, Paths, and
// Namespaces" and Go's filepath.IsLocal (internal/filepathlite, isReservedName). NTFS would read
// `x:y` as the stream `y` of a file `x`, open a device for `aux.txt`, and drop a trailing dot or
// space (so `.. ` would be `..`): each would write something other than the archive's entry.
// node-tar's Windows advisories (CVE-2021-37713: drive-relative `C:..`, `\\?\` roots) fall in the
// same class: `:` and `?` are refused in any component, and entry-path.ts refuses absolute roots.

// `<>:"|?*` and the control characters 1-31 (NUL is refused everywhere)
// eslint-disable-next-line no-control-regex -- control characters are what Windows refuses
const FORBIDDEN = /[<>:"|?*\x01-\x1f]/

// CON, PRN, AUX, NUL, COM0-9, LPT0-9 (Microsoft's list; 0 is refused though only 1-9 open a
// device), COM/LPT with the superscript digits ¹ ² ³, which ntdll's device-name check counts as
// digits (so does Node's own path.win32 since nodejs/node#59261), and CONIN$/CONOUT$, the console.
const DEVICE = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i

/** Why Windows cannot hold `name` (one path component), or undefined when it can. */
export function windowsNameProblem(name: string): string | undefined {
  const bad = FORBIDDEN.exec(name)
  if (bad) return `holds ${JSON.stringify(bad[0])}, which Windows does not allow in names`
  if (/[. ]$/.test(name) && name !== '.' && name !== '..')
    return 'ends with a dot or space, which Windows drops'
  // a device name stays one with any extension (`NUL.tar.gz`) and with spaces before it (`CON .txt`)
  const stem = (name.split('.')[0] as string).replace(/ +$/, '')
  if (DEVICE.test(stem)) return `is the Windows device name ${stem.toUpperCase()}`
  return undefined
}

/**
 * Refuses an archive entry whose path (relative, `/`-separated, as entry-path.ts returns it) has
 * a component Windows cannot hold, naming the entry as the archive spells it.
 */
export function refuseWindowsNames(raw: string, relative: string): void {
  for (const part of relative.split('/')) {
    const problem = windowsNameProblem(part)
    if (problem) throw new ArchiveEntryError(raw, `${JSON.stringify(part)} ${problem}: refused on Windows`)
  }
}
