import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseFileCommands, parseInputDefaults } from '../__tests__/helpers/run-action.js'
import { runMeasured, type Measured } from './measured-process.js'

export interface ActionRun extends Measured {
  outputs: Record<string, string>
  /** What the step saved with core.saveState: the post step receives it as STATE_<name>. */
  state: Record<string, string>
}

export interface ActionProcessOptions {
  /** The repository root: action.yml is read from here. */
  root: string
  /** The bundle: index.js and post/index.js (the repository's dist/ unless another build is compared). */
  dist: string
  /** The Node 24 binary: the runner runs `node24` actions with it. */
  node: string
  /** Scratch space for the runner's files (GITHUB_OUTPUT, summary, temp). */
  scratch: string
  /** More of the step's environment (NODE_EXTRA_CA_CERTS for a bed over TLS). */
  env?: Record<string, string>
}

export interface StepOptions {
  /** Run the post step (post/index.js) instead of the main one. */
  post?: boolean
  /** The main step's saved state, for its post step. */
  state?: Record<string, string>
  /** GITHUB_WORKSPACE and the step's working directory; default a fresh folder of its own. */
  workspace?: string
}

// Fixed provenance: two pushes of the same tree must give the same manifest, as in one workflow run.
const RUNNER_ENV = {
  CI: 'true',
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'alice/bench',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REPOSITORY_OWNER: 'alice',
  GITHUB_RUN_ID: '7',
  GITHUB_RUN_NUMBER: '1',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_ACTOR: 'alice',
  // A push to the default branch: the cache scope whose caches every branch may restore.
  GITHUB_REF: 'refs/heads/main',
  GITHUB_REF_NAME: 'main',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_WORKFLOW: 'bench',
  GITHUB_JOB: 'bench',
  // Nothing may reach GitHub: an API call by mistake fails at once on the discard port.
  GITHUB_API_URL: 'http://127.0.0.1:9',
  SOURCE_DATE_EPOCH: '1767225600',
  RUNNER_OS: 'Linux',
  RUNNER_ARCH: 'X64',
}

/**
 * Runs the bundled action as the runner does (every input as INPUT_<NAME> with action.yml's
 * defaults, outputs and state read back from the file commands), like the e2e tests'
 * runAction, whose parsers this reuses, but under GNU time for the step's peak RSS. Rejects when
 * the step fails, with its log's tail.
 */
export async function runAction(
  o: ActionProcessOptions,
  inputs: Record<string, string>,
  step: StepOptions = {},
): Promise<ActionRun> {
  await mkdir(o.scratch, { recursive: true })
  const dir = await mkdtemp(join(o.scratch, 'step-'))
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_PATH: join(dir, 'path'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
  }
  await Promise.all(Object.values(files).map((file) => writeFile(file, '')))
  await mkdir(join(dir, 'temp'))
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...RUNNER_ENV,
    ...o.env,
    ...files,
    RUNNER_TEMP: join(dir, 'temp'),
    GITHUB_WORKSPACE: step.workspace ?? dir,
  }
  const defaults = parseInputDefaults(await readFile(join(o.root, 'action.yml'), 'utf8'))
  const unknown = Object.keys(inputs).filter((name) => !(name in defaults))
  if (unknown.length > 0) throw new Error(`action.yml declares no input ${unknown.join(', ')}`)
  for (const [name, fallback] of Object.entries(defaults)) {
    // `${{ github.token }}` and the like: the benchmark passes token and username itself.
    env[`INPUT_${name.toUpperCase()}`] = inputs[name] ?? fallback.replace(/\$\{\{[^}]*\}\}/g, '')
  }
  for (const [name, value] of Object.entries(step.state ?? {})) env[`STATE_${name}`] = value
  const entry = join(o.dist, step.post ? 'post/index.js' : 'index.js')
  try {
    const run = await runMeasured(o.node, [entry], { env, cwd: step.workspace ?? dir })
    const outputs = parseFileCommands(await readFile(files.GITHUB_OUTPUT, 'utf8'))
    const state = parseFileCommands(await readFile(files.GITHUB_STATE, 'utf8'))
    if (/^::error::/m.test(run.stdout)) throw new Error(`the action failed: ${stepProblems(run.stdout)}`)
    return { ...run, outputs, state }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * What a step complained about, for a report line: its ::error:: and ::warning:: messages, or
 * else the last lines of its log, never the ::debug:: noise.
 */
export function stepProblems(stdout: string): string {
  const lines = stdout
    .split('\n')
    .filter((line) => line && !/^::(debug|add-mask|group|endgroup)::/.test(line))
  const problems = lines.filter((line) => /^::(error|warning)/.test(line))
  const chosen = problems.length > 0 ? problems : lines.slice(-3)
  // @actions/core escapes %, CR and LF in command data.
  return chosen.map((line) => line.replace(/%0D/g, '').replace(/%0A/g, ' ').replace(/%25/g, '%')).join(' / ')
}
