import { runCacheRestore } from './action/main.js'

await runCacheRestore()
