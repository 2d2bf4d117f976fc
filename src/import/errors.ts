/**
 * Failures of the import command, one class per exit status, so the CLI maps
 * each to its status without reading messages.
 */

/** The command line is invalid, or a file named on it cannot be read or written. Exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * A batch or lookup could not be delivered: the server was unreachable,
 * responded with 5xx or 429 after every retry, or rejected a whole request
 * with a 4xx status. Exit status 1.
 */
export class DeliveryError extends Error {
  override name = 'DeliveryError'
}
