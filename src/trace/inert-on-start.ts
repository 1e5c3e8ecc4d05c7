/**
 * A processor whose `onStart` does nothing lets the plugin build spans already finished
 * (`finished-span.ts`). Processors in upper layers mark their `onStart` function here, so
 * the span model never has to import them: the check stays by function, and a subclass
 * that overrides `onStart` is not taken for inert.
 */
const INERT = Symbol('gateway-zipkin.inertOnStart');

type Marked = { [INERT]?: true };

/** Declares `fn` (a processor's `onStart`) as doing nothing. */
export function markInertOnStart(fn: (...args: never[]) => void): void {
  (fn as Marked)[INERT] = true;
}

/** True for a function declared with `markInertOnStart`. */
export function isMarkedInertOnStart(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as Marked)[INERT] === true;
}
