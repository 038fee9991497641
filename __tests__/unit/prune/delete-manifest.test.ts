import { describe, expect, test } from '@jest/globals'
import { registryHints } from '../../../src/action/inputs/registry-inputs.js'
import { RegistryError } from '../../../src/oci/errors.js'
import { silentLogger } from '../../../src/oci/logger.js'
import { deleteManifest } from '../../../src/oci/manifest-requests.js'
import { answer, scriptedSend } from '../oci/scripted-send.js'

const DIGEST = `sha256:${'a'.repeat(64)}`

function context(...steps: Response[]) {
  const scripted = scriptedSend(steps)
  return {
    scripted,
    c: { send: scripted.send, manifestsUrl: 'https://r.example/v2/o/n/manifests', logger: silentLogger },
  }
}

const unsupported = JSON.stringify({
  errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }],
})

describe('deleteManifest', () => {
  test('DELETE by digest; 202 is done', async () => {
    const { scripted, c } = context(answer(202))
    await deleteManifest(c, DIGEST)
    expect(scripted.requests[0]).toMatchObject({
      method: 'DELETE',
      url: `https://r.example/v2/o/n/manifests/${DIGEST}`,
    })
  })

  test('a manifest already gone counts as deleted', async () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] })
    const { c } = context(answer(404, { 'content-type': 'application/json' }, body))
    await expect(deleteManifest(c, DIGEST)).resolves.toBeUndefined()
  })

  test.each([
    ['405', answer(405, { 'content-type': 'application/json' }, unsupported)],
    ['405 without a body', answer(405)],
  ])('a registry that refuses deletes (%s) says how deletes are enabled', async (_, res) => {
    const { c } = context(res)
    const error = await deleteManifest(c, DIGEST).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryError)
    expect((error as Error).message).toContain('does not allow deleting manifests')
    expect((error as Error).message).toContain('storage.delete.enabled')
  })

  test("a caller's hint replaces the generic words (ghcr.io's, passed in from src/action/)", async () => {
    const { scripted } = context(answer(405))
    const c = {
      send: scripted.send,
      manifestsUrl: 'https://ghcr.io/v2/o/n/manifests',
      logger: silentLogger,
      hints: registryHints('ghcr.io'),
    }
    const error = await deleteManifest(c, DIGEST).catch((e: unknown) => e)
    expect((error as Error).message).toContain('GitHub Packages API')
    expect((error as Error).message).not.toContain('storage.delete.enabled')
  })

  test('a denied delete says the credentials may not delete', async () => {
    const body = JSON.stringify({
      errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }],
    })
    const { c } = context(answer(403, { 'content-type': 'application/json' }, body))
    await expect(deleteManifest(c, DIGEST)).rejects.toThrow(/may delete from this repository/)
  })

  test('refuses a tag: the distribution API deletes by digest only', async () => {
    const { c } = context()
    await expect(deleteManifest(c, 'latest')).rejects.toThrow(/not a valid digest/)
  })
})
