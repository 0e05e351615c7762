/**
 * A sink that tells someone after its inner sink stored rows: the alert
 * signals' writer wrapped so delivery polls the alert store at once instead
 * of at its next interval (a streaming alert reaches its destinations in
 * the time of a few queries, not of a poll interval).
 */
import type { RefusedRow } from '../../store/errors.js';
import type { Sink } from '../../pipeline/sinks.js';

export class NotifyingSink<Row> implements Sink<Row> {
  constructor(
    private readonly inner: Sink<Row>,
    private readonly stored: () => void,
  ) {}

  async write(rows: Row[]): Promise<RefusedRow<Row>[]> {
    const refused = await this.inner.write(rows);
    if (rows.length > refused.length) this.stored();
    return refused;
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
