// The descriptor as the layout code reads and writes it: the same shape as src/oci/descriptor.ts
// in the architecture contract, kept structural so either can be passed where the other is expected.
export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  artifactType?: string
  platform?: Platform
  data?: string
  urls?: string[]
}

export interface Platform {
  architecture: string
  os: string
  'os.version'?: string
  'os.features'?: string[]
  variant?: string
}
