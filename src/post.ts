import { runPost } from './action/main.js'

await runPost()
