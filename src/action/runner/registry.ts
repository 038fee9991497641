import type { Readable } from 'node:stream'
import type { Descriptor } from '../../oci/descriptor.js'
import { Repository, type RepositoryOptions } from '../../oci/repository.js'
import { uploadIfMissing } from '../../oci/upload/produced-upload.js'
import { registryHints, type RegistryTarget } from '../inputs/registry-inputs.js'
import { actionsLogger, uploadProgress } from './log.js'
import { networkOptions } from './network.js'

// How every mode opens the registry, and the one way a replayable blob goes up: shared by the modes
// so that none imports another.

/**
 * The repository `target` names, opened for `actions` (one token exchange covers them), with the
 * user agent, GitHub's permission hints and the network options (proxies, plain http).
 */
export function openRepository(
  target: RegistryTarget,
  actions: RepositoryOptions['actions'],
  env: NodeJS.ProcessEnv = process.env,
): Repository {
  return new Repository({
    registry: target.registry,
    repository: target.repository,
    credentials: target.credentials,
    actions,
    logger: actionsLogger,
    userAgent: userAgent(env),
    hints: registryHints(target.registry),
    ...networkOptions(target),
  })
}

export function openForPull(target: RegistryTarget): Repository {
  return openRepository(target, ['pull'])
}

export function openForPush(target: RegistryTarget): Repository {
  return openRepository(target, ['pull', 'push'])
}

/** Names this action and the ref it runs at in every request, so registry logs can tell it apart. */
export function userAgent(env: NodeJS.ProcessEnv = process.env): string {
  return `oci-artifact-action/${env.GITHUB_ACTION_REF || 'dev'} (node ${process.versions.node})`
}

/** Uploads a blob unless the registry has it (src/oci/upload decides); returns the bytes sent. */
export function pushBlobIfMissing(repo: Repository, blob: Descriptor, open: () => Readable): Promise<number> {
  return uploadIfMissing(repo, blob, open, { logger: actionsLogger, onUpload: uploadProgress })
}
