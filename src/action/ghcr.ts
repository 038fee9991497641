import type { RegistryHints } from '../oci/errors.js'
import { InvalidReferenceError, parseRepository } from '../oci/reference.js'

// GitHub's registry and its policies: what src/oci/ is told, never knows.
export const GHCR = 'ghcr.io'

// ghcr.io's causes are specific enough to name: the job's permissions and the package's settings.
const GHCR_HINTS: RegistryHints = {
  pushDenied:
    'To push with GITHUB_TOKEN, give the job `permissions: packages: write`; if the package already ' +
    'exists, also add this repository with the Write role in the package settings under "Manage Actions access"',
  pullDenied:
    'For a private package, give the job `permissions: packages: read` and, in the package settings ' +
    'under "Manage Actions access", grant this repository access',
  deleteUnsupported:
    'ghcr.io does not delete manifests through the registry API: its versions are deleted through the GitHub Packages API',
}

/** The hints for a refusal by `registry`: ghcr.io's, or the library's generic ones. */
export function registryHints(registry: string): RegistryHints | undefined {
  return registry === GHCR ? GHCR_HINTS : undefined
}

/** `[host/]owner/name`: no host means ghcr.io, where a package is always OWNER/NAME. */
export function parseRepositoryInput(input: string): { registry: string; repository: string } {
  const parsed = parseRepository(input, { defaultRegistry: GHCR })
  if (parsed.registry === GHCR && !parsed.repository.includes('/')) {
    throw new InvalidReferenceError(input, 'a ghcr.io repository is OWNER/NAME')
  }
  return parsed
}
