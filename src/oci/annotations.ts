// Annotation keys that more than one room reads or writes: the image spec's own
// (image-spec annotations.md) and ORAS's, whose layer convention our pushes follow so `oras pull`
// unpacks them and our pull unpacks what `oras push DIR` published.
export const Annotation = {
  Title: 'org.opencontainers.image.title',
  Created: 'org.opencontainers.image.created',
  Source: 'org.opencontainers.image.source',
  Revision: 'org.opencontainers.image.revision',
  RefName: 'org.opencontainers.image.ref.name',
  // ORAS: "true" when the titled layer is a directory to unpack rather than a single file
  OrasUnpack: 'io.deis.oras.content.unpack',
  // ORAS: sha256 of the uncompressed tar of such a directory layer
  OrasContentDigest: 'io.deis.oras.content.digest',
} as const
