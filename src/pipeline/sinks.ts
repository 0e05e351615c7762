import type { RefusedRow } from '../store/errors.js';
import type { RowKind } from './stage.js';

/**
 * Where rows of one kind go: a table writer, later an alert webhook. `write`
 * resolves once the rows are durable, with the rows refused for good; it
 * rejects when the destination is unavailable (nothing of that call counts
 * as written).
 */
export interface Sink<Row> {
  write(rows: Row[]): Promise<RefusedRow<Row>[]>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Sinks by row kind, fanned out: every sink registered for a kind receives
 * all its rows. Wired once, in src/runtime/pipeline.ts.
 */
export class SinkRegistry {
  private readonly byKind = new Map<string, Sink<unknown>[]>();

  register<Row>(kind: RowKind<Row>, sink: Sink<Row>): this {
    const list = this.byKind.get(kind.name) ?? [];
    list.push(sink as Sink<unknown>);
    this.byKind.set(kind.name, list);
    return this;
  }

  /** The sinks of a kind; throws for a kind nobody registered, so rows are never silently dropped. */
  sinksOf(kind: RowKind<unknown>): readonly Sink<unknown>[] {
    const list = this.byKind.get(kind.name);
    if (list === undefined) throw new Error(`no sink registered for ${kind.name} rows`);
    return list;
  }

  private all(): Sink<unknown>[] {
    return [...new Set([...this.byKind.values()].flat())];
  }

  async flush(): Promise<void> {
    await Promise.all(this.all().map((s) => s.flush()));
  }

  /** Closes every sink, even when some fail; rethrows the first failure. */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.all().map((s) => s.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
