#!/usr/bin/env node
// libp2p 3 needs Promise.withResolvers (Node 22+): the polyfill must load before anything else.
import '@kith/core/polyfill'
import { main } from '../dist/index.js'

await main(process.argv)
