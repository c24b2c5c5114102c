import { EventEmitter } from 'node:events';

/** EventEmitter with event names and argument types checked by TypeScript. */
export class TypedEmitter<Events extends { [K in keyof Events]: (...args: any[]) => void }> {
  readonly #emitter = new EventEmitter();

  on<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.on(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.once(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: Events[K]): this {
    this.#emitter.off(event, listener);
    return this;
  }

  protected emit<K extends keyof Events & string>(event: K, ...args: Parameters<Events[K]>): void {
    // Emitted per job on the hot path: skip the listener copy when nobody listens.
    if (this.#emitter.listenerCount(event) === 0) return;
    // A throwing listener must not break the queue's own bookkeeping.
    for (const listener of this.#emitter.listeners(event)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  protected listenerCount(event: keyof Events & string): number {
    return this.#emitter.listenerCount(event);
  }
}
