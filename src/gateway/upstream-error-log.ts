/**
 * Upstream failures as nginx words them in Kong's error log (the level is `error`), so a
 * Kong user greps for the lines they know:
 *
 *     connect() failed (111: Connection refused) while connecting to upstream, client: 127.0.0.1, server: kong, request: "GET /a HTTP/1.1", upstream: "http://127.0.0.1:9/a", host: "localhost:8000"
 *     upstream timed out (110: Connection timed out) while connecting to upstream, …
 *
 * Node reports errno names (`ECONNREFUSED`) without nginx's numbers; the common ones are
 * mapped to the Linux numbers and texts nginx prints, others keep Node's code and message.
 */

/** What nginx was doing when the upstream failed. */
export type UpstreamStage =
  | 'while connecting to upstream'
  | 'while sending request to upstream'
  | 'while reading response header from upstream'
  | 'while reading upstream';

const ERRNO: Readonly<Record<string, string>> = {
  ECONNREFUSED: '111: Connection refused',
  ECONNRESET: '104: Connection reset by peer',
  ETIMEDOUT: '110: Connection timed out',
  EHOSTUNREACH: '113: No route to host',
  ENETUNREACH: '101: Network is unreachable',
  EPIPE: '32: Broken pipe',
};

export interface UpstreamFailure {
  readonly code?: string;
  readonly message: string;
}

/** `connect() failed (111: Connection refused) while connecting to upstream` and the like. */
export function describeFailure(err: UpstreamFailure, stage: UpstreamStage, timedOut: boolean): string {
  if (timedOut) return `upstream timed out (110: Connection timed out) ${stage}`;
  const errno = err.code !== undefined ? ERRNO[err.code] : undefined;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
    return `upstream host could not be resolved (${err.message}) ${stage}`;
  const detail = errno ?? (err.code !== undefined ? `${err.code}: ${err.message}` : err.message);
  if (stage === 'while connecting to upstream') return `connect() failed (${detail}) ${stage}`;
  if (err.code === 'ECONNRESET' || err.message === 'socket hang up')
    return `upstream prematurely closed connection ${stage}`;
  return `recv() failed (${detail}) ${stage}`;
}
