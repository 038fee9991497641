import { runCacheSave } from './action/main.js'

await runCacheSave()
