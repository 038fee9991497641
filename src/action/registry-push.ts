import * as core from '@actions/core'
import type { Readable } from 'node:stream'
import type { Descriptor } from '../oci/descriptor.js'
import { Repository } from '../oci/repository.js'
import { registryHints } from './ghcr.js'
import type { Inputs } from './inputs.js'
import { actionsLogger, userAgent } from './logger.js'
import { networkOptions } from './network.js'
import { startProgress } from './progress.js'

// What push, the cache save and the layout push share: the repository opened to write, with
// GitHub's hints and the network options, and the one way a replayable blob goes up.

/** The repository of `inputs`, opened for pull and push. */
export function openForPush(inputs: Inputs): Repository {
  return new Repository({
    registry: inputs.registry,
    repository: inputs.repository,
    credentials: inputs.credentials,
    actions: ['pull', 'push'],
    logger: actionsLogger,
    userAgent: userAgent(),
    hints: registryHints(inputs.registry),
    ...networkOptions(inputs),
  })
}

/** Uploads a blob unless the registry has it; returns the bytes sent. */
export async function pushBlobIfMissing(
  repo: Repository,
  blob: Descriptor,
  open: () => Readable,
): Promise<number> {
  if (await repo.blobExists(blob.digest)) {
    core.info(`${blob.digest} (${blob.size} bytes) is already in the registry: not uploaded`)
    return 0
  }
  const progress = startProgress(`Uploading ${blob.digest.slice(0, 19)}`, blob.size)
  await repo.pushBlob(blob, open, { onProgress: (bytes) => progress.add(bytes) })
  progress.done()
  return blob.size
}
