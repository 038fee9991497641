import { join } from 'node:path'
import type { BaselineCacheSaveResult, BaselineTiming } from './baseline.js'
import { runMeasured } from './measured-process.js'
import type { RegistryTarget } from './registry-token.js'
import { emptyDirs } from './work-dir.js'

/**
 * actions/cache itself, as the second yardstick of the cache rows: its own save and restore code
 * (bench/actions-cache/), bundled by scripts/bench.sh into .build/actions-cache/ and run as a step
 * is, a Node 24 process of its own. The pipeline (baseline.ts) is what actions/cache
 * runs, with curl where actions/cache downloads and uploads in Node; this is what a user who
 * switches from actions/cache has been waiting for.
 */
export function actionsCacheBundles(root: string): { save: string; restore: string } {
  const bundle = (step: string) => join(root, '.build', 'actions-cache', step, 'index.js')
  return { save: bundle('save'), restore: bundle('restore') }
}

export async function actionsCacheSave(
  bundle: string,
  tree: string,
  work: string,
  target: RegistryTarget,
): Promise<BaselineCacheSaveResult> {
  await emptyDirs(work)
  const run = await runMeasured(process.execPath, [bundle], {
    env: stepEnv(target, work, { GITHUB_WORKSPACE: tree, BENCH_WORK: work }),
  })
  const { digest, size } = JSON.parse(run.stdout.trim().split('\n').pop() ?? '') as {
    digest: string
    size: number
  }
  return { wallMs: run.wallMs, phases: {}, peakRssBytes: run.peakRssBytes, digest, size }
}

export async function actionsCacheRestore(
  bundle: string,
  target: RegistryTarget,
  digest: string,
  work: string,
  dest: string,
): Promise<BaselineTiming> {
  await emptyDirs(work, dest)
  const run = await runMeasured(process.execPath, [bundle], {
    env: stepEnv(target, work, {
      GITHUB_WORKSPACE: dest,
      BENCH_DIGEST: digest,
      BENCH_ARCHIVE: join(work, 'cache.tzst'),
    }),
  })
  return { wallMs: run.wallMs, phases: {}, peakRssBytes: run.peakRssBytes }
}

// What the runner gives a step that matters here, and nothing of the harness's own environment.
function stepEnv(target: RegistryTarget, work: string, vars: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUNNER_TEMP: work,
    BENCH_TARGET: JSON.stringify(target),
    // a step trusts a private CA as the runner makes it: @actions/http-client and fetch both read it
    ...(target.caFile ? { NODE_EXTRA_CA_CERTS: target.caFile } : {}),
    ...vars,
  }
}
