// WWW-Authenticate (RFC 7235): one or more challenges, each a scheme and comma-separated params,
// e.g. `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/n:pull"`.
export interface Challenge {
  scheme: string // lower case: "bearer", "basic"
  params: Record<string, string> // names in lower case
}

export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = []
  let i = 0
  const skip = (re: RegExp): void => {
    while (i < header.length && re.test(header[i] ?? '')) i++
  }
  const token = (): string => {
    const start = i
    skip(/[^\s,=]/)
    return header.slice(start, i)
  }
  while (i < header.length) {
    skip(/[\s,]/)
    const name = token()
    if (!name) break
    skip(/[ \t]/)
    if (header[i] === '=' && challenges.length > 0 && header[i + 1] !== '=') {
      // name=value: a param of the current challenge
      i++
      skip(/[ \t]/)
      ;(challenges[challenges.length - 1] as Challenge).params[name.toLowerCase()] = value()
    } else if (header[i] === '=') {
      // token68 before any scheme, e.g. a bare base64 blob: nothing to attach it to
      skip(/=/)
    } else {
      challenges.push({ scheme: name.toLowerCase(), params: {} })
    }
  }
  return challenges

  function value(): string {
    if (header[i] !== '"') return token()
    let out = ''
    i++
    while (i < header.length && header[i] !== '"') {
      if (header[i] === '\\') i++
      out += header[i] ?? ''
      i++
    }
    i++
    return out
  }
}
