/**
 * `npm start`: runs the service with `config/default.json`, overridden by
 * `SHORTENER_*` environment variables and `--key value` flags. A bad value
 * stops the process before anything starts, with a message naming the key,
 * the value and the allowed range.
 */
import { ConfigError, loadConfig } from '../config/load.ts'
import { createLogger } from '../log.ts'
import { DataDirLockedError } from '../store/data-dir-lock.ts'
import { DeploymentMismatchError } from '../store/meta.ts'
import { ListenError, startServer } from '../server.ts'

async function main (): Promise<void> {
  let config
  try {
    config = loadConfig({ argv: process.argv.slice(2), env: process.env })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`Invalid configuration: ${error.message}\n`)
    process.exit(2)
  }

  const logger = createLogger(config.logLevel)
  logger.info({ config }, 'starting')
  // Node's default for both is to print a stack and exit. Logging first puts
  // the crash in the same stream as everything else, including a failed
  // start, since a rejected top-level await arrives as an uncaught exception.
  const crash = (message: string) => (error: unknown): void => {
    logger.fatal({ err: error }, message)
    logger.flush()
    process.exit(1)
  }
  process.on('uncaughtException', crash('uncaught exception; exiting'))
  process.on('unhandledRejection', crash('unhandled promise rejection; exiting'))

  let server
  try {
    server = await startServer(config, { logger })
  } catch (error) {
    if (error instanceof DeploymentMismatchError || error instanceof DataDirLockedError || error instanceof ListenError) {
      logger.fatal(error.message)
      process.stderr.write(`Cannot start: ${error.message}\n`)
      logger.flush()
      process.exit(2)
    }
    throw error
  }

  const stop = (signal: string): void => {
    logger.info({ signal }, 'received stop signal')
    server.close().then(
      () => { logger.flush(); process.exit(0) },
      (error: unknown) => { logger.fatal({ err: error }, 'failed to stop cleanly'); logger.flush(); process.exit(1) }
    )
  }
  process.once('SIGTERM', () => { stop('SIGTERM') })
  process.once('SIGINT', () => { stop('SIGINT') })
}

await main()
