/**
 * A binary min-heap over a comparison, for arbiters that pick "who goes
 * next" among many queues. Internal to the scheduling policies.
 *
 * @module
 */

/** Min-heap: `pop` answers the least item by `less`. */
export class Heap<T> {
  #h: T[] = [];
  constructor(readonly less: (a: T, b: T) => boolean) {}

  /** Number of items held. */
  get size(): number {
    return this.#h.length;
  }

  /** Adds an item. */
  push(x: T): void {
    const h = this.#h;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  /** Removes and answers the least item; undefined when empty. */
  pop(): T | undefined {
    const h = this.#h;
    if (!h.length) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
