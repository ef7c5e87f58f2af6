/** Composing a store out of repository objects without a hand-written delegation per method. */

/** One type with the public members of every type in the union R (the composition of the repositories). */
export type Composed<R> = (R extends unknown ? (x: Pick<R, keyof R>) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Puts every method of `repo`'s own class on `target`, bound to `repo`: once, at construction, so that a call
 * through the store costs one bound-function call (no per-call proxy). A name already on `target` (another
 * repository's method, or the store's own) throws, so that two repositories can never shadow each other.
 */
export function bindMethods(target: object, repo: object): void {
  const proto = Object.getPrototypeOf(repo) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const method = proto[name];
    if (name === 'constructor' || typeof method !== 'function') continue;
    if (name in target) throw new Error(`store method ${name} is defined twice`);
    // writable and configurable like a class method, so that a test can still replace one on an instance
    Object.defineProperty(target, name, { value: method.bind(repo), writable: true, configurable: true, enumerable: false });
  }
}
