// The prune room's public face: retention over a repository's versions and caches, no @actions/*.
export { prune, describe, type PruneOptions, type PruneReport } from './prune.js'
export { planPrune, matchesAny, versionName, type PrunePolicy, type PrunePlan, type Verdict } from './plan.js'
export { readInventory, type InventoryVersion } from './inventory.js'
export {
  registryVersionStore,
  VersionRefusedError,
  type StoredVersion,
  type VersionStore,
} from './versions.js'
