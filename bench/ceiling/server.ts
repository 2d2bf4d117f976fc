/**
 * The ceiling: a bare uWebSockets.js app that answers every request with the
 * same 302 and the headers the product sends on a redirect, without parsing
 * the code or touching a store. Its throughput under the same load tool is the
 * most the product's front could reach on this machine, so the product's
 * figures are reported as a fraction of it.
 *
 * Usage: node --import tsx bench/ceiling/server.ts [--port 0] [--host 127.0.0.1]
 *        [--location URL]
 * Prints one JSON line with "msg":"listening" and the port, like the product.
 */
import { parseArgs } from 'node:util'
import uWS from 'uWebSockets.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    // Same length as the synthetic targets that the bench preloads.
    location: { type: 'string', default: 'https://example.com/bench/1000000' }
  }
})

const location = values.location
const app = uWS.App()

app.any('/*', (res) => {
  res.cork(() => {
    res.writeStatus('302 Found').writeHeader('Location', location).end()
  })
})

app.listen(values.host, Number(values.port), (listenSocket) => {
  if (listenSocket === false) {
    process.stderr.write(`ceiling: failed to listen on ${values.host}:${values.port}\n`)
    process.exit(1)
  }
  const port = uWS.us_socket_local_port(listenSocket)
  process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, msg: 'listening', host: values.host, port }) + '\n')

  const close = (): void => {
    uWS.us_listen_socket_close(listenSocket)
    process.exit(0)
  }
  process.once('SIGTERM', close)
  process.once('SIGINT', close)
})
