// The test bed's public face: tests import from here, not from the files behind it.
export {
  startTestbed,
  blobPath,
  DEFAULT_USERS,
  SERVICE,
  ISSUER,
  type Testbed,
  type TestbedOptions,
} from './testbed.js'
export {
  startDistantRegistry,
  startFaultProxy,
  type Fault,
  type FaultProxy,
  type FaultProxyOptions,
  type ProxiedRequest,
} from './fault-proxy.js'
export { skopeo, type SkopeoOptions } from './skopeo.js'
export { writeOciLayout, type LayoutBlob, type LayoutOptions, type WrittenLayout } from './oci-layout.js'
export type { TokenRequest } from './token-service.js'
export type { StorageFault, StorageRequest } from './storage-host.js'
export type { Access } from './signing-key.js'
export {
  startPackagesApi,
  type PackagesApi,
  type PackagesApiOptions,
  type ApiRequest,
} from './packages-api.js'
export { createTestNetwork, type TestNetwork } from './netns.js'
export { startForwardProxy, type ForwardProxy } from './forward-proxy.js'
