/**
 * The responses the gateway produces itself, with Kong's status codes and message texts:
 * `kong.response.exit(status, { message })` bodies (router 404, https-only 426, no peer
 * 503) and the nginx upstream errors Kong's error handler words
 * (`kong/error_handlers.lua`: 502, 504). Kong's error handler also adds a `request_id`
 * member (Kong's per-request id) and pretty-prints the JSON; these bodies are the compact
 * `{"message":"…"}` that `kong.response.exit` sends.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

export const NO_ROUTE_MESSAGE = 'no Route matched with those values';
export const HTTPS_REQUIRED_MESSAGE = 'Please use HTTPS protocol';
export const NO_PEER_MESSAGE = 'failure to get a peer from the ring-balancer';
export const BAD_GATEWAY_MESSAGE = 'An invalid response was received from the upstream server';
export const GATEWAY_TIMEOUT_MESSAGE = 'The upstream server is timing out';
export const INTERNAL_ERROR_MESSAGE = 'An unexpected error occurred';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Encoded once: these bodies never change. */
const BODIES = new Map<string, Buffer>();

function bodyOf(message: string): Buffer {
  let body = BODIES.get(message);
  if (body === undefined) {
    body = Buffer.from(JSON.stringify({ message }));
    BODIES.set(message, body);
  }
  return body;
}

/**
 * Answers `status` with `{"message": message}`. When the response has begun already
 * (an upstream response was being relayed) the connection is closed instead, as nginx does.
 */
export function sendExit(res: ServerResponse, status: number, message: string, headers?: OutgoingHttpHeaders): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  const body = bodyOf(message);
  res.setHeader('content-type', JSON_TYPE);
  res.setHeader('content-length', body.length);
  if (headers !== undefined) for (const name in headers) res.setHeader(name, headers[name] as string);
  res.writeHead(status);
  res.end(body);
}

/** Kong's 426 for an https-only route reached over http. */
export function sendHttpsRequired(res: ServerResponse): void {
  sendExit(res, 426, HTTPS_REQUIRED_MESSAGE, { connection: 'Upgrade', upgrade: 'TLS/1.2, HTTP/1.1' });
}
