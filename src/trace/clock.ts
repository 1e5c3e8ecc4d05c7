import type { HrTime } from '@opentelemetry/api';

/**
 * The request clock: epoch microseconds, integers, from a monotonic-anchored source
 * (`performance.timeOrigin + performance.now()`), so phase times of one request never go
 * backwards even if the wall clock is adjusted while it runs.
 */

const origin = performance.timeOrigin;

/** Now, in integer epoch microseconds. */
export function nowMicros(): number {
  return Math.floor((origin + performance.now()) * 1000);
}

/**
 * Epoch microseconds → OTel `HrTime`. Numbers are not passed to OTel as times: a small
 * number would be read as a `performance.now()` offset (docs/otel-notes.md §2.5).
 */
export function microsToHrTime(us: number): HrTime {
  const seconds = Math.floor(us / 1e6);
  return [seconds, (us - seconds * 1e6) * 1000];
}

/** OTel `HrTime` → integer epoch microseconds (floored). */
export function hrTimeToMicros(time: HrTime): number {
  return time[0] * 1e6 + Math.floor(time[1] / 1000);
}
