import { randomHex, randomSpanId, randomTraceId } from '../../src/trace/ids';
import { SlotIdGenerator } from '../../src/trace/id-generator';

describe('ids', () => {
  test('span ids are 16 lowercase hex, trace ids 16 or 32', () => {
    for (let i = 0; i < 2000; i++) {
      expect(randomSpanId()).toMatch(/^[0-9a-f]{16}$/);
      expect(randomTraceId(16)).toMatch(/^[0-9a-f]{32}$/);
      expect(randomTraceId(8)).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  test('ids are never all zeros and do not repeat (pool refills)', () => {
    const seen = new Set<string>();
    // 20000 × 8 bytes crosses the 4 KiB pool many times
    for (let i = 0; i < 20000; i++) {
      const id = randomHex(8);
      expect(id).not.toBe('0000000000000000');
      seen.add(id);
    }
    expect(seen.size).toBe(20000);
  });

  test('mixed sizes across pool refills: each id is its own hex, none repeats', () => {
    // 16 + 8 bytes a step do not divide 4 KiB: ids near the end of a pool start the next one
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const trace = randomHex(16);
      const span = randomHex(8);
      expect(trace).toMatch(/^[0-9a-f]{32}$/);
      expect(span).toMatch(/^[0-9a-f]{16}$/);
      seen.add(trace).add(span);
    }
    expect(seen.size).toBe(10000);
  });

  test('digits are spread evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) for (const c of randomHex(16)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    // 128000 digits, 8000 expected each
    for (const n of counts.values()) expect(Math.abs(n - 8000)).toBeLessThan(800);
  });
});

describe('SlotIdGenerator', () => {
  test('a set slot is used once, then random ids', () => {
    const g = new SlotIdGenerator();
    g.nextSpanId = 'a2fb4a1d1a96d312';
    g.nextTraceId = '463ac35c9f6413ad48485a3953bb6124';
    expect(g.generateSpanId()).toBe('a2fb4a1d1a96d312');
    expect(g.generateTraceId()).toBe('463ac35c9f6413ad48485a3953bb6124');
    expect(g.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    expect(g.generateSpanId()).not.toBe('a2fb4a1d1a96d312');
    expect(g.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
  });

  test('reset drops unused slots', () => {
    const g = new SlotIdGenerator();
    g.nextTraceId = '463ac35c9f6413ad48485a3953bb6124';
    g.nextSpanId = 'a2fb4a1d1a96d312';
    g.reset();
    expect(g.generateTraceId()).not.toBe('463ac35c9f6413ad48485a3953bb6124');
    expect(g.generateSpanId()).not.toBe('a2fb4a1d1a96d312');
  });
});
