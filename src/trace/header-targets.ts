import type { HeaderWriter } from '../propagation/context';

/**
 * Where the access phase writes the upstream headers, in the shapes a Node proxy has:
 * a `HeaderWriter`, an outgoing message (`http.ClientRequest`: `setHeader` /
 * `removeHeader`), or a plain headers object (Node's `req.headers`, or the `headers`
 * option of `http.request`).
 */
export type HeaderTarget = HeaderWriter | OutgoingHeadersLike | Record<string, unknown>;

export interface OutgoingHeadersLike {
  setHeader(name: string, value: string): unknown;
  removeHeader(name: string): void;
}

/** Response side of the header_filter phase: a `ServerResponse` or anything alike. */
export interface ResponseHeadersLike {
  getHeader(name: string): unknown;
  setHeader(name: string, value: string | readonly string[]): unknown;
  appendHeader?(name: string, value: string): unknown;
}

function isWriter(t: HeaderTarget): t is HeaderWriter {
  return typeof (t as HeaderWriter).set === 'function' && typeof (t as HeaderWriter).remove === 'function';
}

function isOutgoing(t: HeaderTarget): t is OutgoingHeadersLike {
  return typeof (t as OutgoingHeadersLike).setHeader === 'function';
}

/**
 * Writer over a headers object whose names are all lowercase (Node's `req.headers`): no
 * scan for other spellings. One instance is reused: injection is synchronous.
 */
class LowercaseObjectWriter implements HeaderWriter {
  target: Record<string, unknown> = {};
  set(name: string, value: string): void {
    this.target[name] = value;
  }
  remove(name: string): void {
    delete this.target[name];
  }
}

/** Writer over a headers object of any spelling: replaces `X-B3-Sampled` when setting `x-b3-sampled`. */
class AnyCaseObjectWriter implements HeaderWriter {
  constructor(private readonly target: Record<string, unknown>) {}
  set(name: string, value: string): void {
    this.remove(name);
    this.target[name] = value;
  }
  remove(name: string): void {
    const t = this.target;
    for (const key of Object.keys(t)) if (key.toLowerCase() === name) delete t[key];
  }
}

class OutgoingWriter implements HeaderWriter {
  constructor(private readonly target: OutgoingHeadersLike) {}
  set(name: string, value: string): void {
    this.target.setHeader(name, value);
  }
  remove(name: string): void {
    this.target.removeHeader(name);
  }
}

const lowercaseWriter = new LowercaseObjectWriter();

/**
 * A writer for `target`. `lowercaseKeys` says a plain object holds lowercase names only
 * (true for Node's `req.headers`), which avoids scanning it on every write.
 */
export function headerWriterFor(target: HeaderTarget, lowercaseKeys: boolean): HeaderWriter {
  if (isWriter(target)) return target;
  if (isOutgoing(target)) return new OutgoingWriter(target);
  if (lowercaseKeys) {
    lowercaseWriter.target = target;
    return lowercaseWriter;
  }
  return new AnyCaseObjectWriter(target);
}

/** Kong's `kong.response.add_header`: append a value, keeping the ones already there. */
export function appendResponseHeader(res: ResponseHeadersLike, name: string, value: string): void {
  if (typeof res.appendHeader === 'function') {
    res.appendHeader(name, value);
    return;
  }
  const existing = res.getHeader(name);
  if (existing === undefined) res.setHeader(name, value);
  else if (Array.isArray(existing)) res.setHeader(name, [...(existing as unknown[]).map(String), value]);
  else res.setHeader(name, [String(existing), value]);
}
