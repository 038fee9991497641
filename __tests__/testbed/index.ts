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
export type { TokenRequest } from './token-service.js'
export type { StorageRequest } from './storage-host.js'
export type { Access } from './signing-key.js'
