import { getProxyUrl } from '@actions/http-client'
import type { HttpOptions } from '../../oci/repository.js'

/**
 * How the action reaches the registry, decided here by the runner's conventions so that src/oci
 * need not know them. Proxies as the runner's own actions pick them: @actions/http-client's
 * getProxyUrl (https_proxy/HTTPS_PROXY for https, http_proxy/HTTP_PROXY for http, lower case
 * first, NO_PROXY suffixes and host:port, loopback always direct), asked per URL, so a storage
 * host the registry redirects to gets its own decision. A private CA is Node's
 * NODE_EXTRA_CA_CERTS, read at start-up: nothing to do here.
 */
export function networkOptions(target: { plainHttp: boolean }): { http: HttpOptions; plainHttp: boolean } {
  return { http: { proxyFor: (url) => getProxyUrl(url.href) || undefined }, plainHttp: target.plainHttp }
}
