/** The `--workers` restart-storm guard: more than `limit` worker deaths within the window stop the restarts. */
import { RestartGuard } from '../../src/gateway/restart-guard';
import { RESTART_LIMIT, RESTART_WINDOW_MS } from '../../src/gateway/workers';

test('the CLI allows 5 deaths within 60 s, not a sixth', () => {
  expect([RESTART_LIMIT, RESTART_WINDOW_MS]).toEqual([5, 60_000]);
  const guard = new RestartGuard(RESTART_LIMIT, RESTART_WINDOW_MS);
  expect([0, 1000, 2000, 3000, 4000].map((t) => guard.allow(t))).toEqual([true, true, true, true, true]);
  expect(guard.allow(59_999)).toBe(false);
  expect(guard.recent).toBe(6);
});

test('deaths older than the window are forgotten', () => {
  const guard = new RestartGuard(2, 1000);
  expect([guard.allow(0), guard.allow(500), guard.allow(999)]).toEqual([true, true, false]);
  // At 1500 the deaths at 0 and 500 are a window old or more: only 999 and 1500 count.
  expect(guard.allow(1500)).toBe(true);
  expect(guard.recent).toBe(2);
  expect(guard.allow(1998)).toBe(false);
  expect(guard.allow(5000)).toBe(true);
  expect(guard.recent).toBe(1);
});
