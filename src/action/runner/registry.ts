import * as core from '@actions/core'
import type { Readable } from 'node:stream'
import type { Descriptor } from '../oci/descriptor.js'
import { Repository, type RepositoryOptions } from '../oci/repository.js'
import { registryHints } from './ghcr.js'
import type { Inputs } from './inputs.js'
import { actionsLogger, userAgent } from './logger.js'
import { networkOptions } from './network.js'
import { startProgress } from './progress.js'

// How every mode opens the registry, and the one way a replayable blob goes up: shared by the modes
// so that none imports another.

/**
 * The repository `inputs` name, opened for `actions` (one token exchange covers them), with the
 * user agent, GitHub's permission hints and the network options (proxies, plain http).
 */
export function openRepository(
  inputs: Inputs,
  actions: RepositoryOptions['actions'],
  env: NodeJS.ProcessEnv = process.env,
): Repository {
  return new Repository({
    registry: inputs.registry,
    repository: inputs.repository,
    credentials: inputs.credentials,
    actions,
    logger: actionsLogger,
    userAgent: userAgent(env),
    hints: registryHints(inputs.registry),
    ...networkOptions(inputs),
  })
}

export function openForPull(inputs: Inputs): Repository {
  return openRepository(inputs, ['pull'])
}

export function openForPush(inputs: Inputs): Repository {
  return openRepository(inputs, ['pull', 'push'])
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
