/*
 * `util.inspect` (and so the REPL and `console.log`) rendering of the primitives' state.
 */

/** The key Node's `util.inspect` looks for. */
export const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');

/** Node's `util.inspect` as it is handed to custom inspectors. */
export type Inspect = (value: unknown, options: object) => string;

/** Renders `Name { key: value, ... }` the way `util.inspect` would render a plain object of that class. */
export function inspectAs(name: string, fields: object, options: object, inspect: Inspect): string {
  return `${name} ${inspect(fields, options)}`;
}
