/**
 * The arena the JSON spans are queued in (src/export/byte-arena.ts): each copy holds exactly
 * the span's UTF-8 bytes, copies share 64 KiB chunks until one is full, and a long copy gets a
 * buffer of its own.
 */
import { ByteArena } from '../../src/export/byte-arena';

describe('ByteArena', () => {
  test('ASCII and UTF-8 copies hold exactly the text as UTF-8', () => {
    const arena = new ByteArena();
    const ascii = arena.copy('{"name":"get"}', true);
    const utf8 = arena.copy('{"name":"gét ü €"}', false);
    expect(ascii.toString('utf8')).toBe('{"name":"get"}');
    expect(ascii.length).toBe(14);
    expect(utf8.equals(Buffer.from('{"name":"gét ü €"}', 'utf8'))).toBe(true);
    expect(utf8.length).toBe(22); // 18 characters, é and ü two bytes each, € three
    // The second copy follows the first in the same chunk, and did not overwrite it.
    expect(utf8.buffer).toBe(ascii.buffer);
    expect(utf8.byteOffset).toBe(ascii.byteOffset + 14);
    expect(ascii.toString('utf8')).toBe('{"name":"get"}');
  });

  test('copies share a 64 KiB chunk until the next one does not fit', () => {
    const arena = new ByteArena();
    const text = (i: number): string => String(i % 10).repeat(1000);
    const copies = Array.from({ length: 70 }, (_, i) => arena.copy(text(i), true));
    // 65 copies of 1000 bytes fit in 65536 bytes; the 66th starts a new chunk.
    expect(new Set(copies.slice(0, 65).map((c) => c.buffer)).size).toBe(1);
    expect(copies[65].buffer).not.toBe(copies[64].buffer);
    expect(copies[65].byteOffset).toBe(0);
    expect(copies[0].buffer.byteLength).toBe(64 * 1024);
    copies.forEach((c, i) => expect(c.toString('latin1')).toBe(text(i)));
  });

  test('a copy over 8 KiB gets a buffer of its own, and the chunk keeps filling', () => {
    const arena = new ByteArena();
    const small = arena.copy('a', true);
    const large = arena.copy('b'.repeat(8193), true);
    const next = arena.copy('c', true);
    expect(large.buffer).not.toBe(small.buffer);
    expect(large.buffer.byteLength).toBe(8193);
    expect(large.toString('latin1')).toBe('b'.repeat(8193));
    expect(next.buffer).toBe(small.buffer);
    expect(next.byteOffset).toBe(small.byteOffset + 1);
  });
});
