// The release workflow's notes: `node scripts/release-notes.ts v1.2.3` prints CHANGELOG.md's
// section for 1.2.3, and fails (naming what to fix) when the tag is not vX.Y.Z[-pre], package.json
// says another version, or the section is missing, undated or empty. Runs on Node 24's type
// stripping, so it imports nothing relative.
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

export class ReleaseNotesError extends Error {}

/** `v1.2.3` or `v1.2.3-rc.1` -> `1.2.3` / `1.2.3-rc.1` (SemVer without build metadata). */
export function versionOfTag(tag: string): string {
  const match = /^v(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/.exec(tag)
  if (!match?.[1]) throw new ReleaseNotesError(`tag ${JSON.stringify(tag)} is not vX.Y.Z (or vX.Y.Z-pre)`)
  return match[1]
}

/** The body under `## [version] - YYYY-MM-DD`, up to the next `## ` heading or the link list. */
export function changelogSection(changelog: string, version: string): string {
  const lines = changelog.split(/\r?\n/)
  const escaped = version.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const heading = new RegExp(`^## \\[${escaped}\\](?:\\s+-\\s+(.*))?\\s*$`)
  const start = lines.findIndex((line) => heading.test(line))
  if (start < 0) throw new ReleaseNotesError(`CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section`)
  const date = heading.exec(lines[start] ?? '')?.[1]?.trim()
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw new ReleaseNotesError(
      `CHANGELOG.md's ${version} section is dated ${JSON.stringify(date ?? '')}: write "## [${version}] - YYYY-MM-DD"`,
    )
  }
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((line) => /^## /.test(line) || /^\[[^\]]+\]:\s/.test(line))
  const body = (end < 0 ? rest : rest.slice(0, end)).join('\n').trim()
  if (!body) throw new ReleaseNotesError(`CHANGELOG.md's ${version} section is empty`)
  return body
}

export function releaseNotes(tag: string, changelog: string, packageVersion: string): string {
  const version = versionOfTag(tag)
  if (packageVersion !== version) {
    throw new ReleaseNotesError(`package.json's version is ${packageVersion}, the tag says ${version}`)
  }
  return changelogSection(changelog, version)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = new URL('..', import.meta.url)
  try {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string }
    const changelog = readFileSync(new URL('CHANGELOG.md', root), 'utf8')
    console.log(releaseNotes(process.argv[2] ?? '', changelog, pkg.version))
  } catch (error) {
    if (!(error instanceof ReleaseNotesError)) throw error
    console.error(`release-notes: ${error.message}`)
    process.exit(1)
  }
}
