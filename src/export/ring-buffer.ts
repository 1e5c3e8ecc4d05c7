/**
 * A growable FIFO ring buffer of entries with a byte size each. The queue drops from the
 * front and appends at the back on every span, so both ends must be O(1) without the
 * re-indexing `Array.prototype.shift` does on large arrays.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private sizes: number[] = new Array<number>(16).fill(0);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T, size: number): void {
    if (this.count === this.items.length) this.grow();
    const at = (this.head + this.count) & (this.items.length - 1);
    this.items[at] = item;
    this.sizes[at] = size;
    this.count++;
  }

  /** Size of the front entry (0 when empty). */
  frontSize(): number {
    return this.count === 0 ? 0 : this.sizes[this.head];
  }

  /** Removes the front entry; the caller reads its size first with `frontSize`. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the entry be collected
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count--;
    return item;
  }

  private grow(): void {
    // Capacity stays a power of two so indexes wrap with a mask.
    const capacity = this.items.length * 2;
    const items = new Array<T | undefined>(capacity);
    const sizes = new Array<number>(capacity).fill(0);
    for (let i = 0; i < this.count; i++) {
      const from = (this.head + i) & (this.items.length - 1);
      items[i] = this.items[from];
      sizes[i] = this.sizes[from];
    }
    this.items = items;
    this.sizes = sizes;
    this.head = 0;
  }
}
