import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { ArchiveEntryError } from '../../../src/archive/errors.js'
import { extractToDirectory } from '../../../src/archive/extract.js'
import { windowsNameProblem } from '../../../src/archive/windows-names.js'
import { rawTar, type RawEntry } from './hostile-tar.js'
import { tempDir } from './tree.js'

// Names NTFS would read as something else (a stream, a device, a shorter name): refused on a
// Windows pull, plain names elsewhere. The e2e Windows group checks the same through dist/ under a
// Windows Node; here every rule is checked on any machine, with the writer told to apply them.
describe('names Windows cannot hold', () => {
  it.each([
    ['x:y.txt', /holds ":"/],
    ['C:..', /holds ":"/],
    ['what?', /holds "\?"/],
    ['a<b', /holds "<"/],
    ['a>b', /holds ">"/],
    ['say"hi"', /holds "\\""/],
    ['pipe|', /holds "\|"/],
    ['star*', /holds "\*"/],
    ['tab\tname', /holds "\\t"/],
    ['esc\u001b', /holds "\\u001b"/],
    ['trailing.', /ends with a dot or space/],
    ['trailing ', /ends with a dot or space/],
    ['.. ', /ends with a dot or space/],
    ['...', /ends with a dot or space/],
    ['CON', /device name CON$/],
    ['aux.txt', /device name AUX$/],
    ['nul.tar.gz', /device name NUL$/],
    ['Prn', /device name PRN$/],
    ['com0', /device name COM0$/],
    ['COM9.log', /device name COM9$/],
    ['lpt1', /device name LPT1$/],
    ['COM\u00b9', /device name COM¹$/],
    ['lpt\u00b3.txt', /device name LPT³$/],
    ['CON .txt', /device name CON$/],
    ['conin$', /device name CONIN\$$/],
    ['CONOUT$.x', /device name CONOUT\$$/],
  ])('%j: %s', (name, why) => {
    expect(windowsNameProblem(name)).toMatch(why)
  })

  it.each([
    'console',
    'com',
    'com10',
    'lpt',
    'auxiliary.txt',
    'nul-device',
    'COM\u00b4',
    '.hidden',
    'a.b.c',
    'ünïcode',
    'tool.exe',
    'x y',
  ])('%j is a name Windows holds', (name) => {
    expect(windowsNameProblem(name)).toBeUndefined()
  })
})

describe('extracting an archive with a name Windows cannot hold', () => {
  const entries = (name: string): RawEntry[] => [
    { path: 'fine.txt', body: 'fine' },
    { path: 'dir/', type: 'Directory' },
    { path: name, body: 'payload' },
  ]
  const extract = (name: string, dest: string, windowsNames?: boolean) =>
    extractToDirectory(Readable.from([rawTar(entries(name))]), dest, { compression: 'none', windowsNames })

  it.each([
    ['dir/x:y.txt', 'x:y.txt'],
    ['dir/AUX.txt', 'AUX.txt'],
    ['dir/NUL/inner', 'NUL'],
    ['dir/trailing.', 'trailing.'],
    ['dir/a\\b?', 'b?'],
  ])('on Windows refuses %j, naming it, before anything reaches the destination', async (name, part) => {
    const work = tempDir('win-names-')
    const dest = path.join(work, 'dest')
    const error = await extract(name, dest, true).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ArchiveEntryError)
    expect((error as ArchiveEntryError).entry).toBe(name)
    expect((error as Error).message).toContain(`${JSON.stringify(part)} `)
    expect((error as Error).message).toMatch(/refused on Windows$/)
    // no destination, no staging folder beside it
    expect(readdirSync(work)).toEqual([])
  })

  it('on Linux and macOS writes such names as they are (the default there)', async () => {
    const dest = path.join(tempDir('win-names-'), 'dest')
    await extract('dir/x:y.txt', dest)
    await extract('dir/aux.txt', dest, false)
    expect(readFileSync(path.join(dest, 'dir/x:y.txt'), 'utf8')).toBe('payload')
    expect(existsSync(path.join(dest, 'dir/aux.txt'))).toBe(true)
  })
})
