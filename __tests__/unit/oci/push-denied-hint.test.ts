import { describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { registryHints } from '../../../src/action/inputs/registry-inputs.js'
import { GENERIC_HINTS, hintFor } from '../../../src/oci/errors.js'
import { Repository } from '../../../src/oci/repository.js'
import { fetchExchange } from './scripted-send.js'

describe('refusal hints', () => {
  test('a refused read inside a push names the push permission: ghcr.io’s words when passed in', () => {
    const ghcr = hintFor('HEAD', 403, [], true, registryHints('ghcr.io'))
    expect(ghcr).toContain('permissions: packages: write')
    expect(ghcr).toContain('Manage Actions access')
    expect(hintFor('HEAD', 401, [], true)).toBe(GENERIC_HINTS.pushDenied)
  })

  test('a refused read of a pull names the read permission on ghcr.io', () => {
    const hint = hintFor('GET', 401, [], false, registryHints('ghcr.io'))
    expect(hint).toContain('packages: read')
    expect(hint).not.toContain('packages: write')
    expect(registryHints('registry.example')).toBeUndefined()
  })

  test('a Repository’s errors carry the hints it was given, and only generic words otherwise', async () => {
    const refuse: typeof fetch = async () => new Response('denied', { status: 403 })
    const open = (hints?: ReturnType<typeof registryHints>) =>
      new Repository({
        registry: 'ghcr.io',
        repository: 'o/n',
        actions: ['pull'],
        exchange: fetchExchange(refuse),
        hints,
      })
    await expect(open(registryHints('ghcr.io')).getManifest('v1')).rejects.toThrow(/packages: read/)
    await expect(open().getManifest('v1')).rejects.toThrow(GENERIC_HINTS.pullDenied)
  })
})

// The library rooms serve any caller: GitHub's variables and policies come in from src/action/.
test('src/oci, src/cache, src/prune and src/archive name no GitHub registry, variable, API or action', () => {
  const offending = ['oci', 'cache', 'prune', 'archive'].flatMap((room) => {
    const root = path.resolve('src', room)
    const files = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'))
    return files.flatMap((file) => {
      // code, not comments: a comment may say how ghcr.io behaves
      const text = readFileSync(path.join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
      return [
        /['"`]ghcr\.io['"`/]/,
        /packages: (read|write)/,
        /Manage Actions access/,
        /Packages API/,
        /GITHUB_/,
        /oci-artifact-action\//,
        /@actions\//,
      ]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${room}/${file}: ${pattern}`)
    })
  })
  expect(offending).toEqual([])
})
