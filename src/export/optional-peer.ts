/**
 * The broker clients are optional peer dependencies (package.json `peerDependenciesMeta`):
 * loaded only when an endpoint needs one, with a start-up error that says what to install.
 */

/** `require(name)`, or an Error naming the package and the endpoints that need it. */
export function loadOptionalPeer<T>(name: string, usedFor: string): T {
  try {
    // A plain require, resolved at run time only: the package may be absent.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        `install ${name} to use ${usedFor} endpoints (npm install ${name}): it is an optional peer dependency of gateway-zipkin`,
        { cause: err },
      );
    }
    throw err;
  }
}
