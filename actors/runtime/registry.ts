/**
 * Where actors are found: the path index of live actors (named actors are
 * looked up by path, which is what `refFor` and inbound remote messages
 * use) and of entity regions (`entities.ts`), which create actors on
 * demand. Generic in what it indexes, so it depends on neither the cell nor
 * the system.
 *
 * @module
 */

/** Live (running or stopping) actors by path, and entity regions by path. */
export class PathRegistry<
  C = unknown,
  R extends { readonly path: string } = { readonly path: string },
> {
  #cells = new Map<string, C>();
  #regions = new Map<string, R>();

  /** Live actors indexed. */
  get size(): number {
    return this.#cells.size;
  }

  get(path: string): C | undefined {
    return this.#cells.get(path);
  }

  register(path: string, cell: C): void {
    this.#cells.set(path, cell);
  }

  /** Removes `path` only if it still maps to `cell` (not a newer incarnation). */
  unregister(path: string, cell: C): void {
    if (this.#cells.get(path) === cell) this.#cells.delete(path);
  }

  /** Every indexed actor, in registration order. */
  cells(): IterableIterator<C> {
    return this.#cells.values();
  }

  addRegion(region: R): void {
    this.#regions.set(region.path, region);
  }

  removeRegion(region: R): void {
    if (this.#regions.get(region.path) === region) {
      this.#regions.delete(region.path);
    }
  }

  /** The region `path` belongs to, if it is an entity path `REGION/ID`. */
  regionFor(path: string): R | undefined {
    if (this.#regions.size === 0) return undefined;
    const i = path.lastIndexOf("/");
    return i <= 0 ? undefined : this.#regions.get(path.slice(0, i));
  }
}
