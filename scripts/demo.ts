// The main job on a fresh machine: start the local test bed (a real OCI registry with ghcr-like
// token auth), push a sample directory with dist/index.js as the runner would, pull it back into
// another folder, and show that the two trees match. Run it with `npm run demo`.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../__tests__/helpers/run-action.js'
import { startTestbed } from '../__tests__/testbed/index.js'
import { renderLog, renderMarkdown, renderOutputs, renderStepHeader, terminalStyle } from './job-log.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'oci-artifact-demo-'))
const sample = path.join(work, 'build-output')
mkdirSync(path.join(sample, 'bin'), { recursive: true })
mkdirSync(path.join(sample, 'docs', 'empty'), { recursive: true })
writeFileSync(path.join(sample, 'bin', 'hello'), '#!/bin/sh\necho hello from the registry\n')
chmodSync(path.join(sample, 'bin', 'hello'), 0o755)
writeFileSync(path.join(sample, 'docs', 'README.txt'), 'a sample build output\n')
symlinkSync('bin/hello', path.join(sample, 'hello'))

const style = terminalStyle()
const uses = 'oci-artifact-action/oci-artifact-action@v1'

/** One step as its job log shows it: the header with inputs, the log, then outputs and summary. */
async function step(
  id: string,
  inputs: Record<string, string>,
  token: string,
): Promise<Record<string, string>> {
  console.log(renderStepHeader(uses, inputs, { secrets: [token], style }))
  const run = await runAction({ inputs })
  console.log(renderLog(run.stdout, { secrets: [token], style }))
  // The runner shows what a step writes to stderr in the same log.
  if (run.stderr.trim()) console.log(renderLog(run.stderr, { secrets: [token], style }))
  if (run.code !== 0) throw new Error(`step ${id} failed with exit code ${run.code}`)
  console.log(`\n${style.dim('Outputs, as later steps read them:')}`)
  console.log(renderOutputs(id, run.outputs, style))
  if (run.summary.trim()) {
    console.log(`\n${style.dim("Job summary (the run's Summary page):")}\n`)
    console.log(renderMarkdown(run.summary, style))
  }
  console.log()
  return run.outputs
}

const bed = await startTestbed()
try {
  const repository = `${bed.registry}/alice/demo`
  const token = bed.users.alice as string
  console.log(style.dim(`registry: ${bed.registry} (token auth, blobs redirected to a storage host)\n`))

  const push = await step(
    'push',
    { mode: 'push', path: sample, repository, tag: 'v1.0.0,latest', username: 'alice', token },
    token,
  )
  const out = path.join(work, 'pulled')
  await step(
    'pull',
    { mode: 'pull', path: out, repository, tag: push.digest ?? '', username: 'alice', token },
    token,
  )

  // GNU diff compares contents, modes aside; ls shows the exec bit and the symlink survived.
  execFileSync('diff', ['-r', '--no-dereference', sample, out], { stdio: 'inherit' })
  console.log(execFileSync('ls', ['-lR', out], { encoding: 'utf8' }))
  console.log('demo: the pulled tree matches the pushed one')
} finally {
  await bed.stop()
  rmSync(work, { recursive: true, force: true })
}
