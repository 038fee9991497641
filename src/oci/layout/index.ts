// OCI image layouts (image-spec "image-layout.md"): publish one as it is, or pull into one.
export type { Descriptor } from '../descriptor.js'
export { LayoutError } from './layout-error.js'
export { isLayout, readLayout, REF_NAME_ANNOTATION, type Layout, type LayoutIndex } from './read-layout.js'
export { selectManifests, type SelectedManifest } from './select-manifests.js'
export { verifyLayout, type VerifiedBlob } from './verify-layout.js'
export { pushLayout, type PushedRoot, type PushLayoutOptions } from './push-layout.js'
export { pullToLayout, type PulledLayout, type PullToLayoutOptions } from './pull-to-layout.js'
export type { LayoutPullSource, LayoutPushTarget } from './registry-ports.js'
