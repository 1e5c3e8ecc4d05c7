/**
 * Size limits on what the engine parses and re-injects. Kong has none (nginx's header
 * buffers are its only bound); these are ours, a deliberate difference: a trace header
 * larger than any real one is ignored with a warning instead of being parsed, and baggage
 * is capped the way OpenTelemetry's W3C baggage propagator caps it, so the gateway never
 * sends upstream a baggage larger than it would accept (escaping can triple a value).
 *
 * Sizes are counted in characters of the header string, which for Node's header values
 * (latin1) is one per byte.
 */

/** A trace header value (any trigger header but `tracestate`) longer than this is ignored. */
export const MAX_TRACE_HEADER_BYTES = 8192;
/** Baggage items kept per request (OTel: `BAGGAGE_MAX_NAME_VALUE_PAIRS`). */
export const MAX_BAGGAGE_ITEMS = 180;
/** Largest `key=value` of one item (OTel: `BAGGAGE_MAX_PER_NAME_VALUE_PAIRS`). */
export const MAX_BAGGAGE_ITEM_BYTES = 4096;
/** Sum of all kept `key=value` sizes (OTel: `BAGGAGE_MAX_TOTAL_LENGTH`). */
export const MAX_BAGGAGE_BYTES = 8192;

export const BAGGAGE_ITEM_TOO_LARGE = `baggage item over ${MAX_BAGGAGE_ITEM_BYTES} bytes; ignoring.`;
export const BAGGAGE_TOO_MANY = `baggage over ${MAX_BAGGAGE_ITEMS} items; ignoring the rest.`;
export const BAGGAGE_TOO_LARGE = `baggage over ${MAX_BAGGAGE_BYTES} bytes; ignoring the rest.`;

export function traceHeaderTooLarge(name: string): string {
  return `${name} header over ${MAX_TRACE_HEADER_BYTES} bytes; ignoring.`;
}

/**
 * Running count of the baggage items kept, OTel's rules: an item over the per-item size is
 * skipped, and once the item count or the total size would be exceeded the rest is dropped.
 * Each rule warns at most once per request.
 */
export class BaggageBudget {
  private items = 0;
  private bytes = 0;
  private full = false;
  private warned = 0;
  /** The warnings to log, in order met. */
  readonly warnings: string[] = [];

  /** True when an item of this size may be kept (and counts it). */
  admit(size: number): boolean {
    if (this.full) return false;
    if (size > MAX_BAGGAGE_ITEM_BYTES) {
      this.warn(1, BAGGAGE_ITEM_TOO_LARGE);
      return false;
    }
    if (this.items === MAX_BAGGAGE_ITEMS) {
      this.full = true;
      this.warn(2, BAGGAGE_TOO_MANY);
      return false;
    }
    if (this.bytes + size > MAX_BAGGAGE_BYTES) {
      this.full = true;
      this.warn(4, BAGGAGE_TOO_LARGE);
      return false;
    }
    this.items++;
    this.bytes += size;
    return true;
  }

  private warn(bit: number, text: string): void {
    if ((this.warned & bit) !== 0) return;
    this.warned |= bit;
    this.warnings.push(text);
  }
}
