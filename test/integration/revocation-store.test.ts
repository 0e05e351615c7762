/** The revocations table and the watcher polling it, on chdb (or CLICKHOUSE_URL). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RevocationStore, type StoredRevocation } from '../../src/revoke/store.js';
import { RevocationWatcher } from '../../src/revoke/watcher.js';
import { openTestStore, type TestStore } from '../support/store.js';

let store: TestStore;
let revocations: RevocationStore;

before(async () => {
  store = await openTestStore();
  revocations = new RevocationStore(store.writer, store.config.database);
});
after(() => store.close());

const exp = Math.floor(Date.now() / 1000) * 1000 + 3600_000;
const req = (kind: 'link' | 'agent' | 'key', target: string) => ({ kind, target, reason: "it's \"compromised\"; DROP TABLE x", revokedBy: 'soc' });

test('a link revocation expires with the latest exp of the links it names (by hash or jti); others never', async () => {
  await store.writer.insert({
    table: `${store.config.database}.delegations`,
    format: 'JSONEachRow',
    values: [
      { link_hash: 'h1', jti: 'j1', task_id: 't', delegator: 'a', delegatee: 'b', delegator_kind: 'agent', scopes: [], issued_at: exp - 3600_000, not_before: exp - 3600_000, expires_at: exp, parent_hash: '', depth: 2, trust_domain: 'co.com', kid: 'k', alg: 'EdDSA', purpose: '', valid: true, first_seen: Date.now() },
    ],
  });
  assert.equal((await revocations.revoke(req('link', 'h1'))).expiresAtMs, exp);
  assert.equal((await revocations.revoke(req('link', 'j1'))).expiresAtMs, exp);
  assert.equal((await revocations.revoke(req('link', 'never-seen'))).expiresAtMs, 0);
  assert.equal((await revocations.revoke(req('agent', 'spiffe://co.com/agent/b'))).expiresAtMs, 0);
  const listed = await revocations.list({ kind: 'link' });
  assert.equal(listed.length, 3);
  assert.ok(listed.every((r) => r.reason === req('link', '').reason), 'hostile text stored as given');
});

test('the watcher loads what exists, picks up new rows by high-water mark, and drops revocations past expiry + grace', async () => {
  let now = Date.now();
  const applied: StoredRevocation[] = [];
  const watcher = new RevocationWatcher(revocations, { pollMs: 60_000, graceMs: 1000, now: () => now, onApplied: (r) => applied.push(r) });
  await watcher.start();
  try {
    const first = watcher.current();
    assert.equal(first.size, 4, 'everything from the previous test');
    assert.deepEqual(applied, [], 'the first load is not reported as newly applied');
    await watcher.poll();
    assert.equal(watcher.current(), first, 'nothing changed: the same set, the same version');

    const k = await revocations.revoke(req('key', 'kid-1'));
    await watcher.poll();
    assert.equal(watcher.current().size, 5);
    assert.ok(watcher.current().version > first.version);
    assert.deepEqual(applied.map((r) => r.id), [k.id]);

    // Past the links' exp plus the grace: the two revocations of h1/j1 go, the rest stay.
    now = exp + 1001;
    await watcher.poll();
    assert.deepEqual(watcher.current().revocations.map((r) => r.target).sort(), ['kid-1', 'never-seen', 'spiffe://co.com/agent/b']);
  } finally {
    await watcher.close();
  }
});
