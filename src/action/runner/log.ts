import * as core from '@actions/core'
import type { Logger } from '../oci/logger.js'

/** The library's Logger, spoken through the runner: debug lines show only with RUNNER_DEBUG. */
export const actionsLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
}

/** Names this action and the ref it runs at in every request, so registry logs can tell it apart. */
export function userAgent(env: NodeJS.ProcessEnv = process.env): string {
  return `oci-artifact-action/${env.GITHUB_ACTION_REF || 'dev'} (node ${process.versions.node})`
}
