import { hrTimeToMicros, microsToHrTime, nowMicros } from '../../src/trace/clock';

describe('clock', () => {
  test('now is integer epoch µs close to Date.now()', () => {
    const us = nowMicros();
    expect(Number.isInteger(us)).toBe(true);
    expect(Math.abs(us / 1000 - Date.now())).toBeLessThan(50);
  });

  test('never goes backwards', () => {
    let last = nowMicros();
    for (let i = 0; i < 10000; i++) {
      const t = nowMicros();
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    }
  });

  test('µs ↔ HrTime is exact', () => {
    expect(microsToHrTime(1795229602012239)).toEqual([1795229602, 12239000]);
    expect(microsToHrTime(1795229602000000)).toEqual([1795229602, 0]);
    expect(hrTimeToMicros([1795229602, 12239999])).toBe(1795229602012239);
    for (const us of [1, 999999, 1000000, 1795229602999999]) expect(hrTimeToMicros(microsToHrTime(us))).toBe(us);
  });
});
