// The main job on a fresh machine: start the local test bed (a real OCI registry with ghcr-like
// token auth), push a sample directory with dist/index.js as the runner would, pull it back into
// another folder, and show that the two trees match. Run it with `npm run demo`.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runAction } from '../__tests__/helpers/run-action.js'
import { startTestbed } from '../__tests__/testbed/index.js'

const work = mkdtempSync(path.join(os.tmpdir(), 'oci-artifact-demo-'))
const sample = path.join(work, 'build-output')
mkdirSync(path.join(sample, 'bin'), { recursive: true })
mkdirSync(path.join(sample, 'docs', 'empty'), { recursive: true })
writeFileSync(path.join(sample, 'bin', 'hello'), '#!/bin/sh\necho hello from the registry\n')
chmodSync(path.join(sample, 'bin', 'hello'), 0o755)
writeFileSync(path.join(sample, 'docs', 'README.txt'), 'a sample build output\n')
symlinkSync('bin/hello', path.join(sample, 'hello'))

// The runner hides ::debug:: lines unless debug logging is on; so does the demo.
function show(log: string): void {
  process.stdout.write(log.replace(/^::debug::.*\n/gm, ''))
}

const bed = await startTestbed()
try {
  const repository = `${bed.registry}/alice/demo`
  const token = bed.users.alice as string
  console.log(`registry: ${bed.registry} (token auth, blobs redirected to a storage host)\n`)

  const push = await runAction({
    inputs: { mode: 'push', path: sample, repository, tag: 'v1.0.0,latest', username: 'alice', token },
  })
  show(push.stdout)
  if (push.code !== 0) throw new Error(`push failed:\n${push.stderr}`)
  console.log('\npush outputs:', push.outputs, '\n')

  const out = path.join(work, 'pulled')
  const pull = await runAction({
    inputs: { mode: 'pull', path: out, repository, tag: push.outputs.digest ?? '', username: 'alice', token },
  })
  show(pull.stdout)
  if (pull.code !== 0) throw new Error(`pull failed:\n${pull.stderr}`)
  console.log('\npull outputs:', pull.outputs, '\n')

  // GNU diff compares contents, modes aside; ls shows the exec bit and the symlink survived.
  execFileSync('diff', ['-r', '--no-dereference', sample, out], { stdio: 'inherit' })
  console.log(execFileSync('ls', ['-lR', out], { encoding: 'utf8' }))
  console.log('demo: the pulled tree matches the pushed one')
} finally {
  await bed.stop()
  rmSync(work, { recursive: true, force: true })
}
