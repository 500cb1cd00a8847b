/**
 * Copy-on-write edits of one frozen record map (services, jobs): changing one record copies the
 * map; a batch command makes all its changes through one `RecordEdit`, so the map is copied once
 * however many records change, and not at all when none does. Tasks, which are many, live in a
 * persistent `TaskTable` instead (task-table.ts), edited through `TaskEdit`.
 * @module
 * @private
 */
import { deepFreeze } from './model.js';

/**
 * Edits of `base`, which is never changed.
 * @example
 * const services = new RecordEdit(state.services);
 * services.set(id, { ...services.get(id)!, replicas: 3 });
 * const next = services.changed ? { ...state, services: services.result() } : state;
 */
export class RecordEdit<T> {
  readonly #base: Readonly<Record<string, T>>;
  #copy: Record<string, T> | null = null;

  constructor(base: Readonly<Record<string, T>>) {
    this.#base = base;
  }

  /** Whether anything was set or deleted. */
  get changed(): boolean {
    return this.#copy !== null;
  }

  get(id: string): T | undefined {
    const current = this.#copy ?? this.#base;
    return Object.hasOwn(current, id) ? current[id] : undefined;
  }

  has(id: string): boolean {
    return Object.hasOwn(this.#copy ?? this.#base, id);
  }

  /** Set `id` to `value` (frozen here, so the result can be frozen without walking it). */
  set(id: string, value: T): void {
    this.#writable()[id] = deepFreeze(value);
  }

  delete(id: string): void {
    if (this.has(id)) delete this.#writable()[id];
  }

  /**
   * The edited map, frozen, or `base` itself when nothing changed. Its records are all frozen
   * (the base's were, new ones are frozen by `set`), so freezing the map alone keeps the state
   * deeply frozen: `deepFreeze` then stops at it instead of walking thousands of records.
   */
  result(): Readonly<Record<string, T>> {
    return this.#copy === null ? this.#base : Object.freeze(this.#copy);
  }

  #writable(): Record<string, T> {
    // One copy for the whole batch. Task ids and service ids cannot be "__proto__" (their
    // patterns start with a letter or digit), so plain assignment keeps every key a key.
    this.#copy ??= { ...this.#base };
    return this.#copy;
  }
}
