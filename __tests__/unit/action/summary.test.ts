import { describe, expect, test } from '@jest/globals'
import { pushSummary } from '../../../src/action/summary.js'

const base = {
  digest: `sha256:${'1'.repeat(64)}`,
  ref: `ghcr.io/acme/tool@sha256:${'1'.repeat(64)}`,
  tags: ['v1'],
  size: 100,
  uploaded: 100,
  seconds: 1,
}

describe('the push summary', () => {
  test('gives a curl line per file layer, saving it under its title', () => {
    const text = pushSummary(
      {
        ...base,
        fileLayers: [
          { title: 'tool-linux-amd64', digest: `sha256:${'a'.repeat(64)}`, size: 10 },
          { title: "it's here.txt", digest: `sha256:${'b'.repeat(64)}`, size: 10 },
        ],
      },
      { registry: 'ghcr.io', repository: 'acme/tool' },
    )
    expect(text).toContain(
      `https://ghcr.io/v2/acme/tool/blobs/sha256:${'a'.repeat(64)} -o tool-linux-amd64\n`,
    )
    expect(text).toContain(`blobs/sha256:${'b'.repeat(64)} -o 'it'\\''s here.txt'\n`)
    expect(text).not.toContain('tar -xz')
  })

  test('a directory layer is one curl piped into tar', () => {
    const text = pushSummary(
      { ...base, layerDigest: `sha256:${'c'.repeat(64)}` },
      { registry: 'ghcr.io', repository: 'acme/tool' },
    )
    expect(text).toContain(`blobs/sha256:${'c'.repeat(64)} | tar -xz\n`)
    expect(text).not.toContain(' -o ')
  })
})
