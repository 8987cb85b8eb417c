/**
 * Node 20 lacks two things libp2p 3 uses: `Promise.withResolvers` and a global `WebSocket`
 * (both Node 22+; @libp2p/websockets dials with the global one). Import this module once,
 * before anything that imports libp2p: `import '@kith/core/polyfill'` as the first line of an
 * entry point, `node --import @kith/core/polyfill`, or vitest `setupFiles`.
 */
import { WebSocket as WsWebSocket } from 'ws'

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const PromiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof PromiseCtor.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

// ws implements the browser WebSocket API that @libp2p/websockets relies on (binaryType,
// addEventListener, bufferedAmount). Unlike a browser WebSocket it is an EventEmitter, so an
// 'error' with no listener left (a dial refused after its caller gave up, say at shutdown)
// would crash the process: keep one no-op listener on every socket. Errors still reach the
// caller's own listeners and end in 'close' as before.
class NodeWebSocket extends WsWebSocket {
  constructor (...args: ConstructorParameters<typeof WsWebSocket>) {
    super(...args)
    this.on('error', () => {})
  }
}

if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined') {
  Object.defineProperty(globalThis, 'WebSocket', { configurable: true, writable: true, value: NodeWebSocket })
}

export {}
