/**
 * The package page for a ghcr.io repository: ghcr.io answers a browser's GET of the image name
 * with a redirect to the package on github.com, for users and organisations alike. Other
 * registries have no page we can name.
 */
export function packageUrl(registry: string, repository: string): string | undefined {
  return registry === 'ghcr.io' ? `https://ghcr.io/${repository}` : undefined
}
