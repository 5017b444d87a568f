/*
 * `util.inspect` (and so the REPL and `console.log`) rendering of the primitives' state.
 *
 * The rendering is put on a class's prototype when its first instance is made, not in the class body:
 * a class body with a computed key such as `[util.inspect.custom]` counts as a side effect for esbuild,
 * which would then keep every class of the package in a bundle that imports only one of them.
 */

/** The key Node's `util.inspect` looks for. */
const inspectSymbol = /*#__PURE__*/ Symbol.for('nodejs.util.inspect.custom');

/** Node's `util.inspect` as it is handed to custom inspectors. */
type Inspect = (value: unknown, options: object) => string;

/**
 * Makes `util.inspect` render the instances of a class as `Name { ...fields(instance) }`, the way it
 * would render a plain object of that class; returns `true`, for a class's "done once" flag:
 * `if (!Event.#inspectable) Event.#inspectable = inspectable(Event.prototype, 'Event', (e) => ({ set: e.#flag }))`.
 */
export function inspectable<T extends object>(proto: T, name: string, fields: (self: T) => object): true {
  Object.defineProperty(proto, inspectSymbol, {
    value(this: T, _depth: number, options: object, inspect: Inspect): string {
      return `${name} ${inspect(fields(this), options)}`;
    },
  });
  return true;
}
