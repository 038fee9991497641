export interface RegistryConfigOptions {
  storageDir: string
  address: string
  realm: string
  service: string
  issuer: string
  rootCertBundle: string
  storageBaseUrl: string
  secret: string
  /** Serve https with these PEM files. */
  tls?: { certificate: string; key: string }
}

/**
 * The configuration of CNCF Distribution 2.8 for the bed, as JSON: JSON is YAML, so no YAML
 * writer is needed. Token auth as ghcr.io does it, deletes on, blob reads redirected to the
 * storage host, and every background job off so a start takes milliseconds.
 */
export function registryConfig(o: RegistryConfigOptions): string {
  const config = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: o.storageDir },
      delete: { enabled: true },
      // The bed lives for one test file: purging stale uploads would only add a goroutine.
      maintenance: { uploadpurging: { enabled: false }, readonly: { enabled: false } },
      redirect: { disable: false },
    },
    middleware: { storage: [{ name: 'redirect', options: { baseurl: o.storageBaseUrl } }] },
    // A fixed secret keeps upload state valid across requests; Distribution warns without one.
    http: {
      addr: o.address,
      secret: o.secret,
      headers: { 'X-Content-Type-Options': ['nosniff'] },
      ...(o.tls ? { tls: o.tls } : {}),
    },
    auth: {
      token: { realm: o.realm, service: o.service, issuer: o.issuer, rootcertbundle: o.rootCertBundle },
    },
    health: { storagedriver: { enabled: false } },
  }
  return JSON.stringify(config, null, 2)
}
