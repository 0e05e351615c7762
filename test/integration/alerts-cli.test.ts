/** `chainsight alerts` against the alerts API on a real socket, with a real bearer token; hostile text never reaches the terminal raw. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { registerAlertCommands, type AlertCliIo } from '../../src/cli/alert-commands.js';
import { startApiHarness, type ApiHarness } from '../support/api-harness.js';
import { CO_ALERT_ID, PARTNER_ALERT_ID, signal, storeSignals } from '../support/alerts.js';
import { CO } from '../support/api-fixtures.js';
import { alertId } from '../../src/detect/alert.js';

let h: ApiHarness;
before(async () => { h = await startApiHarness(); });
after(async () => h.close());

async function run(args: string[], token?: string): Promise<{ out: string; err: string; code: number }> {
  const res = { out: '', err: '', code: 0 };
  const io: AlertCliIo = {
    out: (t) => { res.out += t + '\n'; },
    err: (t) => { res.err += t + '\n'; },
    exit: (c) => { res.code = c; },
    fetch: (...a) => fetch(...a),
    token: () => token,
  };
  const program = new Command().exitOverride().configureOutput({ writeErr: (t) => { res.err += t; }, writeOut: (t) => { res.out += t; } });
  registerAlertCommands(program, io);
  try {
    await program.parseAsync(['alerts', ...args, '--api', h.base], { from: 'user' });
  } catch {
    res.code = res.code || 1;
  }
  return res;
}

test("list prints a table of the caller's alerts; show prints evidence and history", async () => {
  const viewer = await h.token([CO], 'viewer');
  const list = await run([], viewer);
  assert.equal(list.code, 0, list.err);
  const lines = list.out.trim().split('\n');
  assert.match(lines[0]!, /^ID\s+SEVERITY\s+STATE\s+KIND\s+COUNT\s+LAST SEEN\s+SUBJECT$/);
  assert.equal(lines.length, 3, 'two co.example alerts');
  assert.ok(list.out.includes(CO_ALERT_ID));
  assert.ok(!list.out.includes(PARTNER_ALERT_ID));
  const high = await run(['list', '--severity', 'high'], viewer);
  assert.equal(high.out.trim().split('\n').length, 2);
  const show = await run(['show', CO_ALERT_ID], viewer);
  assert.equal(show.code, 0, show.err);
  assert.match(show.out, /Evidence:\n {2}spans: span1/);
  assert.match(show.out, /History:\n.* open +detector:test: raised: /);
});

test('ack and resolve as a responder; errors set the exit status and say why', async () => {
  const responder = await h.token([CO], 'responder');
  const ack = await run(['ack', CO_ALERT_ID, '--note', 'on it'], responder);
  assert.equal(ack.code, 0, ack.err);
  assert.match(ack.out, /^acknowledged [0-9a-f]{32}: now acknowledged/);
  const resolved = await run(['resolve', CO_ALERT_ID], responder);
  assert.match(resolved.out, /now resolved/);
  const conflict = await run(['ack', CO_ALERT_ID], responder);
  assert.equal(conflict.code, 1);
  assert.match(conflict.err, /409 the alert is resolved/);
  const asViewer = await run(['resolve', CO_ALERT_ID], await h.token([CO], 'viewer'));
  assert.equal(asViewer.code, 1);
  assert.match(asViewer.err, /403/);
  const badId = await run(['show', 'nope'], responder);
  assert.notEqual(badId.code, 0);
  assert.match(badId.err, /32 lower-case hex/);
  const noToken = await run([]);
  assert.equal(noToken.code, 1);
  assert.match(noToken.err, /401/);
});

test('control characters in alert text are replaced before they reach the terminal', async () => {
  const hostile = signal({ tenant: CO, subject: 'evil\u001b[2J\u001b]0;pwned\u0007', summary: 'line1\nline2\u001b[31m', eventKey: 'hostile' });
  await storeSignals(h.store.writer, h.store.config.database, [hostile]);
  const viewer = await h.token([CO], 'viewer');
  const list = await run([], viewer);
  const show = await run(['show', alertId(hostile)], viewer);
  for (const out of [list.out, show.out]) {
    assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out), 'no control character but line breaks of our own');
    assert.ok(out.includes('evil?[2J?]0;pwned?'));
  }
  assert.ok(show.out.includes('line1?line2?[31m'));
});
