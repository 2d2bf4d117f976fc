/**
 * Wording for input of the wrong type, shared by the target and alias rules.
 * Error details echo the value back, so an object or array is named by its
 * type instead of being serialized, which could be large.
 */

/** Returns the type of a value as an error detail reads it: `a number`, `an array`, `null`. */
export function describeType (value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/** Returns text to echo back for a value that is not a string. */
export function echoNonString (value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? '[array]' : '[object]'
}
