import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runMeasured, type Measured } from './measured-process.js'

export interface ActionRun extends Measured {
  outputs: Record<string, string>
  /** What the step saved with core.saveState: the post step receives it as STATE_<name>. */
  state: Record<string, string>
}

export interface StepOptions {
  /** Default the main entry; `dist/post/index.js` for the post step. */
  entry?: string
  /** The main step's saved state, for its post step. */
  state?: Record<string, string>
}

export interface ActionProcessOptions {
  /** The Node 24 binary: the runner runs `node24` actions with it. */
  node: string
  /** `dist/index.js` */
  entry: string
  /** Scratch space for the runner's files (GITHUB_OUTPUT, summary, temp). */
  scratch: string
}

// Fixed provenance: two pushes of the same tree must produce the same manifest, as in one workflow run.
const RUNNER_ENV = {
  GITHUB_ACTIONS: 'true',
  GITHUB_REPOSITORY: 'alice/bench',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_RUN_ID: '7',
  GITHUB_ACTOR: 'alice',
  SOURCE_DATE_EPOCH: '1767225600',
  RUNNER_OS: 'Linux',
  RUNNER_ARCH: 'X64',
}

/**
 * Runs the action's `dist/index.js` as the runner does (inputs as INPUT_<NAME> with hyphens kept,
 * outputs read back from GITHUB_OUTPUT), under GNU time for its peak RSS. The runner passes every
 * input, defaults included; the action treats an empty input as its default, so only the inputs a
 * benchmark sets are passed here. Rejects when the step fails, with its log's tail.
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
    ...files,
    RUNNER_TEMP: join(dir, 'temp'),
    GITHUB_WORKSPACE: dir,
  }
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value
  for (const [name, value] of Object.entries(step.state ?? {})) env[`STATE_${name}`] = value
  try {
    const run = await runMeasured(o.node, [step.entry ?? o.entry], { env, cwd: dir })
    const outputs = parseOutputFile(await readFile(files.GITHUB_OUTPUT, 'utf8'))
    const state = parseOutputFile(await readFile(files.GITHUB_STATE, 'utf8'))
    if (/^::error::/m.test(run.stdout)) throw new Error(`the action failed:\n${run.stdout.slice(-2000)}`)
    return { ...run, outputs, state }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The runner's file command format (GITHUB_OUTPUT, GITHUB_STATE): `name<<DELIMITER`, value lines, `DELIMITER`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^<=]+)<<(.+)$/.exec(lines[i]!)
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1)
      if (end < 0) throw new Error(`GITHUB_OUTPUT: no end for ${heredoc[1]}`)
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n')
      i = end
    } else if (lines[i]!.includes('=')) {
      const eq = lines[i]!.indexOf('=')
      outputs[lines[i]!.slice(0, eq)] = lines[i]!.slice(eq + 1)
    }
  }
  return outputs
}
