import { describe, expect, it } from '@jest/globals'
import { changelogSection, releaseNotes, versionOfTag } from '../../../scripts/release-notes.js'

const changelog = `# Changelog

## [Unreleased]

- Something not yet released.

## [1.1.0] - 2027-01-15

### Fixed

- A pull of an empty directory.

## [1.0.0] - Unreleased

### Added

- Push.

[Unreleased]: https://example.invalid/compare/v1.1.0...HEAD
[1.1.0]: https://example.invalid/releases/tag/v1.1.0
`

describe('release notes from CHANGELOG.md', () => {
  it("are the version's section, without its heading, the next section or the link list", () => {
    expect(releaseNotes('v1.1.0', changelog, '1.1.0')).toBe('### Fixed\n\n- A pull of an empty directory.')
  })

  it('refuse a tag that is not vX.Y.Z, and accept a pre-release', () => {
    expect(() => versionOfTag('1.1.0')).toThrow(/not vX.Y.Z/)
    expect(() => versionOfTag('v1')).toThrow(/not vX.Y.Z/)
    expect(versionOfTag('v2.0.0-rc.1')).toBe('2.0.0-rc.1')
  })

  it('refuse a version package.json does not carry', () => {
    expect(() => releaseNotes('v1.1.0', changelog, '1.0.0')).toThrow(/package.json's version is 1.0.0/)
  })

  it('refuse a version with no section, an undated one, or an empty one', () => {
    expect(() => changelogSection(changelog, '1.2.0')).toThrow(/no "## \[1.2.0\] - YYYY-MM-DD" section/)
    expect(() => changelogSection(changelog, '1.0.0')).toThrow(/dated "Unreleased"/)
    expect(() =>
      changelogSection('## [3.0.0] - 2027-02-01\n\n## [2.0.0] - 2027-01-01\n- x\n', '3.0.0'),
    ).toThrow(/section is empty/)
  })

  it("read the project's CHANGELOG.md: the first release's section is there", async () => {
    const { readFile } = await import('node:fs/promises')
    const text = await readFile(new URL('../../../CHANGELOG.md', import.meta.url), 'utf8')
    // Dated when the release is cut; until then the workflow would refuse it, which is the point.
    expect(text).toMatch(/^## \[1\.0\.0\] - /m)
  })
})
