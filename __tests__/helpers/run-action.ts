import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface RunActionOptions {
  /** By action.yml name (`compression-level`); missing ones get action.yml's default. */
  inputs: Record<string, string | number | boolean>
  /**
   * Added to, and overriding, the runner-like environment (GITHUB_TOKEN feeds `${{ github.token }}`).
   * A main step and its post step share files only through dirs they both get: pass the same
   * RUNNER_TEMP (and workspace) to both, as the runner keeps them for the whole job.
   */
  env?: Record<string, string>
  /** Run the post step (dist/post/index.js) instead of the main one. */
  post?: boolean
  /**
   * A sub-action's folder (`cache/restore`): its action.yml gives the inputs and defaults, and the
   * script is the one its `runs.main` names, as the runner resolves `uses: owner/repo/cache/restore@v1`.
   */
  action?: string
  /** The main step's saved state, which the runner hands the post step as STATE_<name>. */
  state?: Record<string, string>
  /** The Node binary; default the project's Node 24, what `runs.using: node24` means. */
  node?: string
  /** Where index.js and post/index.js are; default the repository's dist/. */
  distDir?: string
  /**
   * The job's workspace and working directory; default env.GITHUB_WORKSPACE, else a temp dir
   * removed after the run.
   */
  workspace?: string
  /** The webhook payload at GITHUB_EVENT_PATH (what @actions/github reads as context.payload). */
  event?: Record<string, unknown>
  timeoutMs?: number
  /** Called with the action's process once it started, e.g. to signal it as a cancelled run would. */
  onSpawn?: (child: ChildProcess) => void
}

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
}

export interface RunActionResult {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  state: Record<string, string>
  /** The job summary markdown written to GITHUB_STEP_SUMMARY. */
  summary: string
  /** Variables exported for later steps through GITHUB_ENV. */
  exportedEnv: Record<string, string>
  /** `::error::` and friends from stdout, decoded: what the runner shows as annotations. */
  annotations: Annotation[]
}

// The repository root: the folder above this file that holds action.yml (this file also runs
// compiled from .build/, for the demo).
const root = findRoot(fileURLToPath(new URL('.', import.meta.url)))

function findRoot(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, 'action.yml'))) return at
    if (dirname(at) === at) throw new Error(`runAction: no action.yml above ${dir}`)
  }
}

// A run that takes longer is stuck: jest's own timeout is 120 s and should report ours first.
const DEFAULT_TIMEOUT_MS = 100_000

/**
 * Runs the bundled action as the GitHub runner does for `using: node24`: a fresh Node process on
 * dist/index.js (or dist/post/index.js), inputs as INPUT_<NAME> with action.yml's defaults, file
 * commands in temp files that are read back afterwards, and the workspace as working directory.
 */
export async function runAction(o: RunActionOptions): Promise<RunActionResult> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-run-action-'))
  try {
    const workspace = o.workspace ?? o.env?.GITHUB_WORKSPACE ?? join(dir, 'workspace')
    const runnerTemp = o.env?.RUNNER_TEMP ?? join(dir, 'runner-temp')
    await Promise.all([mkdir(workspace, { recursive: true }), mkdir(runnerTemp, { recursive: true })])
    const eventFile = join(dir, 'event.json')
    await writeFile(eventFile, JSON.stringify(o.event ?? {}))
    const files = {
      GITHUB_OUTPUT: join(dir, 'output'),
      GITHUB_STATE: join(dir, 'state'),
      GITHUB_STEP_SUMMARY: join(dir, 'summary'),
      GITHUB_ENV: join(dir, 'env'),
      GITHUB_PATH: join(dir, 'path'),
    }
    await Promise.all(Object.values(files).map((f) => writeFile(f, '')))

    const github = { ...githubDefaults(), ...o.env }
    const env: NodeJS.ProcessEnv = {
      ...inheritedEnv(),
      ...github,
      ...files,
      RUNNER_TEMP: runnerTemp,
      GITHUB_WORKSPACE: workspace,
      GITHUB_EVENT_PATH: eventFile,
      ...o.env,
      ...(await inputEnv(o.inputs, github, o.action)),
      ...Object.fromEntries(Object.entries(o.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
    }

    const script = o.action
      ? await subActionMain(o.action)
      : join(o.distDir ?? join(root, 'dist'), o.post ? 'post/index.js' : 'index.js')
    const { code, stdout, stderr } = await spawnNode(
      o.node ?? node24(),
      script,
      env,
      workspace,
      o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      o.onSpawn,
    )
    const read = (f: string): Promise<string> => readFile(f, 'utf8')
    return {
      code,
      stdout,
      stderr,
      outputs: parseFileCommands(await read(files.GITHUB_OUTPUT)),
      state: parseFileCommands(await read(files.GITHUB_STATE)),
      summary: await read(files.GITHUB_STEP_SUMMARY),
      exportedEnv: parseFileCommands(await read(files.GITHUB_ENV)),
      annotations: parseAnnotations(stdout),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export function githubDefaults(): Record<string, string> {
  return {
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_RUN_ID: '4242424242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKFLOW: 'ci',
    GITHUB_JOB: 'test',
    GITHUB_ACTION: '__self',
    GITHUB_ACTOR: 'octocat',
    GITHUB_SERVER_URL: 'https://github.com',
    // Tests never reach GitHub: an API call by mistake fails at once on the discard port.
    GITHUB_API_URL: 'http://127.0.0.1:9',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'run-action',
    RUNNER_ENVIRONMENT: 'github-hosted',
  }
}

/**
 * The test process's environment without what would make the child differ from a runner's:
 * jest's NODE_OPTIONS (experimental VM modules) and any INPUT_, STATE_, GITHUB_, RUNNER_ or
 * ACTIONS_ variable of the machine (when the tests themselves run in GitHub Actions).
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || /^(INPUT|STATE|GITHUB|RUNNER|ACTIONS)_/.test(k)) continue
    env[k] = v
  }
  return env
}

export async function inputEnv(
  inputs: Record<string, string | number | boolean>,
  github: Record<string, string>,
  action?: string,
): Promise<Record<string, string>> {
  const declared = await actionInputDefaults(action)
  const unknown = Object.keys(inputs).filter((name) => !(name in declared))
  if (unknown.length > 0) {
    throw new Error(
      `runAction: ${action ? `${action}/` : ''}action.yml declares no input ${unknown.join(', ')}`,
    )
  }
  const env: Record<string, string> = {}
  for (const [name, fallback] of Object.entries(declared)) {
    const value = name in inputs ? String(inputs[name]) : substituteGithub(fallback, github)
    // The runner upper-cases the name and keeps hyphens; @actions/core reads it the same way.
    env[`INPUT_${name.toUpperCase()}`] = value
  }
  return env
}

/** `${{ github.token }}` and the like, from GITHUB_TOKEN, GITHUB_ACTOR, ...; unknown ones become ''. */
function substituteGithub(value: string, github: Record<string, string>): string {
  return value.replace(
    /\$\{\{\s*github\.(\w+)\s*\}\}/g,
    (_, key: string) => github[`GITHUB_${key.toUpperCase()}`] ?? '',
  )
}

const defaultsCache = new Map<string, Promise<Record<string, string>>>()

/**
 * Input names and defaults from action.yml (or a sub-action's). The file's shape is simple and
 * ours (two-space indents, one-line scalars), so a line reader does instead of a YAML dependency.
 */
export function actionInputDefaults(action = '.'): Promise<Record<string, string>> {
  let defaults = defaultsCache.get(action)
  if (!defaults) {
    defaults = readFile(join(root, action, 'action.yml'), 'utf8').then(parseInputDefaults)
    defaultsCache.set(action, defaults)
  }
  return defaults
}

/** The script a sub-action's `runs.main` names, resolved from its folder as the runner does. */
async function subActionMain(action: string): Promise<string> {
  const yml = await readFile(join(root, action, 'action.yml'), 'utf8')
  const main = /^ {2}main: *(\S+)\s*$/m.exec(yml)?.[1]
  if (!main) throw new Error(`runAction: ${action}/action.yml has no runs.main`)
  return join(root, action, main)
}

export function parseInputDefaults(yml: string): Record<string, string> {
  const defaults: Record<string, string> = {}
  let inInputs = false
  let current: string | undefined
  for (const line of yml.split(/\r?\n/)) {
    if (/^\S/.test(line)) {
      inInputs = line.startsWith('inputs:')
      current = undefined
      continue
    }
    if (!inInputs) continue
    const name = /^ {2}([\w-]+):\s*$/.exec(line)
    if (name?.[1]) {
      current = name[1]
      defaults[current] = ''
      continue
    }
    const fallback = /^ {4}default:\s*(.*)$/.exec(line)
    if (fallback && current) defaults[current] = unquote(fallback[1] ?? '')
  }
  return defaults
}

function unquote(raw: string): string {
  const value = raw.trim()
  if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) return JSON.parse(value) as string
  if (value.startsWith("'") && value.endsWith("'") && value.length >= 2)
    return value.slice(1, -1).replace(/''/g, "'")
  return value
}

/** GITHUB_OUTPUT / GITHUB_STATE / GITHUB_ENV: `name=value` lines and `name<<DELIM` blocks. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line)
    if (heredoc?.[1] && heredoc[2]) {
      const end = lines.indexOf(heredoc[2], i + 1)
      if (end < 0) throw new Error(`file command ${heredoc[1]}: no closing ${heredoc[2]}`)
      values[heredoc[1]] = lines.slice(i + 1, end).join('\n')
      i = end
      continue
    }
    const eq = line.indexOf('=')
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return values
}

export function parseAnnotations(stdout: string): Annotation[] {
  const annotations: Annotation[] = []
  for (const match of stdout.matchAll(/^::(error|warning|notice)(?: [^:]*)?::(.*)$/gm)) {
    // @actions/core escapes %, CR and LF in command data.
    const message = (match[2] ?? '').replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
    annotations.push({ level: match[1] as Annotation['level'], message })
  }
  return annotations
}

let node24Path: string | undefined

/** The Node 24 binary scripts/node24.sh finds: the one the e2e tests must run the bundle with. */
function node24(): string {
  node24Path ??= execFileSync('bash', [join(root, 'scripts/node24.sh')], { encoding: 'utf8' }).trim()
  return node24Path
}

function spawnNode(
  node: string,
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
  timeoutMs: number,
  onSpawn?: (child: ChildProcess) => void,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    onSpawn?.(child)
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      const stdout = Buffer.concat(out).toString('utf8')
      const stderr = Buffer.concat(err).toString('utf8')
      if (timedOut) reject(new Error(`${script} still running after ${timeoutMs} ms\n${stdout}\n${stderr}`))
      else resolve({ code, stdout, stderr })
    })
  })
}
