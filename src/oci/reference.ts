// Image references as `[host[:port]/]namespace/name[:tag][@digest]`, after the grammar of
// distribution/reference (what docker, go-containerregistry and ghcr.io accept). Pure: no I/O.

export interface Reference {
  registry: string
  repository: string
  tag?: string
  digest?: string
}

export interface ReferenceOptions {
  // the registry of a name without a host (the caller's policy: src/action/ says ghcr.io)
  defaultRegistry?: string
}

export class InvalidReferenceError extends Error {
  readonly input: string
  constructor(input: string, reason: string) {
    super(`invalid reference "${input}": ${reason}`)
    this.name = 'InvalidReferenceError'
    this.input = input
  }
}
// The contract named it ReferenceError; that name shadows the JavaScript built-in wherever it is
// imported, so the class is InvalidReferenceError and this alias keeps the documented name working.
export { InvalidReferenceError as ReferenceError }

// distribution/reference: path components, separated by "/", lowercase alphanumerics joined by
// ".", "_", "__" or runs of "-".
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const HOST_LABEL = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/
const IPV6 = /^\[[0-9a-f:.]+\]$/
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/
// distribution/reference caps the name (host and path) at 255 characters.
const MAX_NAME = 255

export function isValidTag(tag: string): boolean {
  return TAG.test(tag)
}

export function isValidDigest(digest: string): boolean {
  return DIGEST.test(digest)
}

export function parseReference(input: string, o: ReferenceOptions = {}): Reference {
  let rest = input.trim()
  if (rest === '') throw new InvalidReferenceError(input, 'it is empty')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!isValidDigest(digest)) {
      throw new InvalidReferenceError(
        input,
        `"${digest}" is not a sha256:<64 hex> or sha512:<128 hex> digest`,
      )
    }
  }
  let tag: string | undefined
  // A ":" after the last "/" is a tag; one before it is a registry port.
  const colon = rest.lastIndexOf(':')
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!isValidTag(tag)) {
      throw new InvalidReferenceError(input, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}`)
    }
  }
  const { registry, repository } = splitName(input, rest, o.defaultRegistry)
  const ref: Reference = { registry, repository }
  if (tag !== undefined) ref.tag = tag
  if (digest !== undefined) ref.digest = digest
  return ref
}

export function parseRepository(
  input: string,
  o: ReferenceOptions = {},
): { registry: string; repository: string } {
  const ref = parseReference(input, o)
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw new InvalidReferenceError(input, 'a repository takes no tag or digest')
  }
  return { registry: ref.registry, repository: ref.repository }
}

export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`
  if (ref.tag !== undefined) s += `:${ref.tag}`
  if (ref.digest !== undefined) s += `@${ref.digest}`
  return s
}

// Plain HTTP would send credentials in the clear, so only a registry on this machine gets it.
// http for loopback hosts (a local test registry, as docker and oras do) and where the user said
// plain http for this registry; https everywhere else.
export function registryBaseUrl(registry: string, o: { plainHttp?: boolean } = {}): string {
  return `${o.plainHttp || isLoopbackHost(hostOf(registry)) ? 'http' : 'https'}://${registry}`
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (h === 'localhost' || h === '::1') return true
  const octets = h.split('.')
  return (
    octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) < 256)
  )
}

// "host:port" or "[v6]:port" -> host
function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1)
  return registry.split(':')[0] ?? registry
}

function splitName(
  input: string,
  name: string,
  defaultRegistry: string | undefined,
): { registry: string; repository: string } {
  const slash = name.indexOf('/')
  const first = slash < 0 ? name : name.slice(0, slash)
  // Unlike docker, a capitalised first segment is an owner, not a host: GitHub owners have
  // capitals and the tool lowercases them, so only ".", ":", "[" or "localhost" mark a host.
  const hasHost = slash >= 0 && (/[.:[]/.test(first) || first.toLowerCase() === 'localhost')
  const registry = hasHost ? first.toLowerCase() : defaultRegistry
  if (registry === undefined) throw new InvalidReferenceError(input, 'it names no registry host')
  const repository = (hasHost ? name.slice(slash + 1) : name).toLowerCase()
  if (hasHost) checkRegistry(input, registry)
  if (repository === '') throw new InvalidReferenceError(input, 'the repository name is empty')
  for (const component of repository.split('/')) {
    if (component === '') throw new InvalidReferenceError(input, 'the repository has an empty path segment')
    if (!COMPONENT.test(component)) {
      throw new InvalidReferenceError(
        input,
        `"${component}" must be lowercase letters and digits, joined by ".", "_", "__" or "-"`,
      )
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME) {
    throw new InvalidReferenceError(input, `the name is longer than ${MAX_NAME} characters`)
  }
  return { registry, repository }
}

function checkRegistry(input: string, registry: string): void {
  const m = /^(\[[^\]]*\]|[^:]+)(?::(\d{1,5}))?$/.exec(registry)
  const host = m?.[1]
  const port = m?.[2]
  const hostOk =
    host !== undefined && (IPV6.test(host) || host.split('.').every((label) => HOST_LABEL.test(label)))
  if (!hostOk || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new InvalidReferenceError(input, `"${registry}" is not a valid registry host[:port]`)
  }
}
