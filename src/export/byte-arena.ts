/**
 * Strings copied into shared chunks of bytes, for spans that wait in the queue. Each copy is
 * a view of a 64 KiB chunk, so a queue at its `max_bytes` holds about that many bytes:
 * `Buffer.from` of a short string takes a slice of Node's 8 KiB pool but starts a new pool
 * whenever less than four bytes per character are left, which kept about 1.5× the bytes
 * (measured: 46 MiB of pools for 32 MiB of 700-byte spans). A chunk is freed once every view
 * of it is; the queue frees spans oldest first, so chunks go in the order they were filled.
 */

const CHUNK_BYTES = 64 * 1024;

/** Copies longer than this get a buffer of their own, so a chunk never wastes more than this at its end. */
const OWN_BUFFER_BYTES = CHUNK_BYTES / 8;

export class ByteArena {
  private chunk: Buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  private used = 0;

  /** `text` as bytes: ASCII copied byte for byte when `ascii`, UTF-8 otherwise. */
  copy(text: string, ascii: boolean): Buffer {
    const encoding = ascii ? 'latin1' : 'utf8';
    const length = ascii ? text.length : Buffer.byteLength(text, 'utf8');
    if (length > OWN_BUFFER_BYTES) {
      const own = Buffer.allocUnsafeSlow(length);
      own.write(text, 0, length, encoding);
      return own;
    }
    if (length > CHUNK_BYTES - this.used) {
      this.chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
      this.used = 0;
    }
    const start = this.used;
    this.chunk.write(text, start, length, encoding);
    this.used = start + length;
    return this.chunk.subarray(start, start + length);
  }
}
