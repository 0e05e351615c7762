/**
 * The feed into the outbox, on chdb: a change the source answers on several
 * polls (its read-behind overlap) is enqueued once; a poke makes the feed
 * poll at once instead of at its interval; a source that fails is retried
 * from the same cursor, so nothing is skipped.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { idempotencyKey, type AlertChange, type AlertChangeSource } from '../../src/alert/delivery/change.js';
import { DEFAULT_DELIVERY } from '../../src/alert/delivery/config.js';
import { DEFAULT_RESPONSE } from '../../src/alert/response/config.js';
import { AlertDelivery } from '../../src/alert/delivery/service.js';
import { RevocationStore } from '../../src/revoke/store.js';
import { openTestStore, type TestStore } from '../support/store.js';
import { change } from '../support/alert-changes.js';
import { waitFor } from '../support/kafka.js';

let store: TestStore;
before(async () => {
  store = await openTestStore();
});
after(() => store.close());

/** A change source answering from a script of pages, recording the cursors it was asked from. */
class ScriptedSource implements AlertChangeSource {
  readonly cursors: string[] = [];
  constructor(private readonly pages: (AlertChange[] | Error)[]) {}
  async changesSince(cursor: string): Promise<{ changes: AlertChange[]; cursor: string }> {
    this.cursors.push(cursor);
    const page = this.pages.shift() ?? [];
    if (page instanceof Error) throw page;
    return { changes: page, cursor: `c${this.cursors.length}` };
  }
}

const quiet = { error: () => {}, warn: () => {}, info: () => {} };

function service(pollIntervalMs: number): AlertDelivery {
  return new AlertDelivery({
    client: store.writer,
    database: store.config.database,
    delivery: { ...DEFAULT_DELIVERY, pollIntervalMs },
    secrets: { secrets: new Map(), cas: new Map() },
    response: DEFAULT_RESPONSE,
    revocations: new RevocationStore(store.writer, store.config.database),
    dispatch: true,
    logger: quiet,
  });
}

async function outboxRows(key: string): Promise<number> {
  const rs = await store.reader.query({ query: `SELECT count() AS n FROM ${store.config.database}.alert_outbox WHERE idem_key = {k:String}`, query_params: { k: key }, format: 'JSONEachRow' });
  return Number((await rs.json<{ n: string }>())[0]!.n);
}

test('a change answered on three polls is inserted once; a failed poll is retried from the same cursor', async () => {
  const a = change({ subject: 'feed-a' });
  const b = change({ subject: 'feed-b' });
  const source = new ScriptedSource([[a], [a], new Error('store down'), [a, b]]);
  const s = service(10);
  s.follow(source, 'start');
  await waitFor('four polls', () => source.cursors.length >= 5);
  await s.stop();
  assert.equal(await outboxRows(idempotencyKey(a)), 1);
  assert.equal(await outboxRows(idempotencyKey(b)), 1);
  assert.deepEqual(source.cursors.slice(0, 5), ['start', 'c1', 'c2', 'c2', 'c4'], 'the failed poll does not move the cursor');
});

test('a poke makes the feed poll at once rather than at its interval', async () => {
  const c = change({ subject: 'feed-poke' });
  const source = new ScriptedSource([[], [c]]);
  const s = service(3_600_000);
  s.follow(source);
  await waitFor('the first poll', () => source.cursors.length === 1);
  s.poke();
  await waitFor('the poked poll', () => source.cursors.length === 2, 10_000);
  await waitFor('the change enqueued', async () => (await outboxRows(idempotencyKey(c))) === 1, 10_000);
  await s.stop();
});
