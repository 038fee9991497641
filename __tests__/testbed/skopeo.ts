import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface SkopeoOptions {
  /** `user:secret` for every registry side of the command. */
  creds?: string
  /** For copy and sync, one side only. */
  srcCreds?: string
  destCreds?: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

// The bed speaks plain http: these subcommands take one TLS flag, copy and sync take one per side.
const ONE_SIDED = new Set(['inspect', 'delete', 'list-tags', 'login', 'logout', 'layers'])
const TWO_SIDED = new Set(['copy', 'sync'])

/**
 * Runs skopeo 1.9 against the bed: TLS verification off (so it speaks http to loopback), no
 * signature policy, and an empty auth file of its own so the machine's docker or podman logins
 * never leak in. Resolves with stdout; rejects with stderr in the message. Asynchronous on purpose:
 * the token service runs in this process, so a synchronous skopeo would wait forever for a token.
 */
export async function skopeo(args: string[], o: SkopeoOptions = {}): Promise<string> {
  const [command, ...rest] = args
  if (!command) throw new Error('skopeo: no subcommand')
  const flags: string[] = []
  if (ONE_SIDED.has(command)) {
    flags.push('--tls-verify=false')
    if (o.creds) flags.push('--creds', o.creds)
  }
  if (TWO_SIDED.has(command)) {
    flags.push('--src-tls-verify=false', '--dest-tls-verify=false')
    const src = o.srcCreds ?? o.creds
    const dest = o.destCreds ?? o.creds
    if (src) flags.push('--src-creds', src)
    if (dest) flags.push('--dest-creds', dest)
  }

  const dir = await mkdtemp(join(tmpdir(), 'oci-skopeo-'))
  try {
    const authFile = join(dir, 'auth.json')
    await writeFile(authFile, '{"auths":{}}')
    const env = { ...process.env, REGISTRY_AUTH_FILE: authFile, TMPDIR: dir, ...o.env }
    const argv = ['--insecure-policy', command, ...flags, ...rest]
    return await new Promise<string>((resolve, reject) => {
      execFile(
        'skopeo',
        argv,
        { env, timeout: o.timeoutMs ?? 60_000, maxBuffer: 64 << 20 },
        (error, stdout, stderr) => {
          if (error)
            reject(
              new Error(`skopeo ${argv.join(' ')} failed (${error.code ?? error.signal}): ${stderr.trim()}`, {
                cause: error,
              }),
            )
          else resolve(stdout)
        },
      )
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
