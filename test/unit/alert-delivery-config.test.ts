/** The `delivery` and `response` sections, their secrets, and the response's plan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DEFAULT_DELIVERY, parseDeliveryConfig, readAlertDeliveryEnv, readDispatchRole, resolveDeliverySecrets } from '../../src/alert/delivery/config.js';
import { DEFAULT_RESPONSE, parseResponseConfig, type ResponseConfig } from '../../src/alert/response/config.js';
import { planResponse } from '../../src/alert/response/plan.js';
import { EnvReader } from '../../src/config/env.js';
import { change } from '../support/alert-changes.js';

const YAML = `
delivery:
  poll_interval_ms: 500
  retry: { initial_ms: 200, max_ms: 5000 }
  external_url: https://chainsight.acme.example/
  destinations:
    - { name: soc, type: webhook, url: "https://hooks.acme.example/am", ca_file: /etc/ca.pem, receiver: soc-team }
    - { name: siem, type: ocsf, file: /var/log/chainsight/findings.jsonl }
    - { name: bus, type: kafka, brokers: ["k1:9092", "k2:9092"], topic: chainsight.alerts, format: alertmanager }
response:
  enabled: true
  dry_run: true
  min_severity: high
  actions: { integrity.link_reuse: link, policy.violation: agent }
`;

test('a full delivery and response config parses; absent keys take their defaults', () => {
  const raw = parse(YAML) as Record<string, unknown>;
  const problems: string[] = [];
  const d = parseDeliveryConfig(raw.delivery, '/delivery', problems);
  const r = parseResponseConfig(raw.response, '/response', problems);
  assert.deepEqual(problems, []);
  assert.equal(d.pollIntervalMs, 500);
  assert.deepEqual(d.retry, { initialMs: 200, maxMs: 5000 });
  assert.equal(d.giveUpAfterMs, DEFAULT_DELIVERY.giveUpAfterMs);
  assert.equal(d.externalUrl, 'https://chainsight.acme.example');
  assert.deepEqual(d.destinations.map((x) => [x.type, x.name]), [['webhook', 'soc'], ['ocsf', 'siem'], ['kafka', 'bus']]);
  const hook = d.destinations[0]!;
  assert.ok(hook.type === 'webhook' && hook.secretEnv === 'CHAINSIGHT_WEBHOOK_SECRET' && hook.caFile === '/etc/ca.pem' && hook.receiver === 'soc-team');
  assert.deepEqual(r, { enabled: true, dryRun: true, minSeverity: 'high', actions: { 'integrity.link_reuse': 'link', 'policy.violation': 'agent' } });
  assert.deepEqual(parseResponseConfig(undefined, '/response', problems), DEFAULT_RESPONSE);
  assert.equal(DEFAULT_RESPONSE.enabled, false, 'the automated response is off unless asked for');
  assert.deepEqual(parseDeliveryConfig(undefined, '/delivery', problems), DEFAULT_DELIVERY);
  assert.deepEqual(problems, []);
});

test('a broken section reports every problem with its path', () => {
  const problems: string[] = [];
  parseDeliveryConfig(
    {
      retry: { initial_ms: 5000, max_ms: 100 },
      polling: 3,
      destinations: [
        { type: 'webhook', url: 'https://user:pw@hooks.example/x' },
        { type: 'webhook', name: 'soc', url: 'ftp://x', secret_env: 'HOME' },
        { type: 'ocsf', name: 'siem', file: '/x', url: 'https://y' },
        { type: 'kafka', name: 'soc', brokers: ['nohostport'], topic: 'bad topic!' },
        { type: 'pager', name: 'response' },
        { type: 'webhook', name: 'h2', url: 'http://plain.example/', ca_file: '/ca.pem' },
      ],
    },
    '/delivery',
    problems,
  );
  parseResponseConfig({ enabled: 'yes', min_severity: 'severe', actions: { 'no.such_kind': 'link', 'policy.violation': 'human' } }, '/response', problems);
  const expected = [
    '/delivery/polling: is not a known key',
    '/delivery/destinations/0/url: must not carry credentials',
    '/delivery/destinations/1/url: must be an http:// or https:// URL',
    '/delivery/destinations/1/secret_env: must name a CHAINSIGHT_* environment variable',
    '/delivery/destinations/2: needs exactly one of file and url',
    '/delivery/destinations/3/name: "soc" is used twice',
    '/delivery/destinations/3/brokers: "nohostport" is not host:port',
    '/delivery/destinations/3/topic: is not a valid Kafka topic name',
    '/delivery/destinations/4/type: must be one of webhook, ocsf, kafka',
    '/delivery/destinations/4/name: "response" is reserved',
    '/delivery/destinations/5/ca_file: is set but the url is not https',
    '/delivery/retry/max_ms: must be at least initial_ms',
    '/response/enabled: must be true or false',
    '/response/min_severity: must be one of',
    '/response/actions/no.such_kind: is not a known key',
    '/response/actions/policy.violation: must be one of link, agent',
  ];
  for (const e of expected) assert.ok(problems.some((p) => p.startsWith(e)), `missing problem: ${e}\n${problems.join('\n')}`);
});

test('secrets come from the environment: a webhook without one, or with a short one, is refused; present ones are returned', () => {
  const problems: string[] = [];
  const d = parseDeliveryConfig({ destinations: [{ name: 'a', url: 'https://a.example/' }, { name: 'b', url: 'https://b.example/', secret_env: 'CHAINSIGHT_B_SECRET', ca_file: '/missing.pem' }] }, '/delivery', problems);
  assert.deepEqual(problems, []);
  const none = new EnvReader({});
  resolveDeliverySecrets(d, none, () => { throw Object.assign(new Error('no'), { code: 'ENOENT' }); });
  assert.deepEqual(none.problems, [
    'CHAINSIGHT_WEBHOOK_SECRET must be set: destination "a" signs what it sends with it',
    'CHAINSIGHT_B_SECRET must be set: destination "b" signs what it sends with it',
    'destination "b": cannot read ca_file: ENOENT',
  ]);
  const short = new EnvReader({ CHAINSIGHT_WEBHOOK_SECRET: 'short', CHAINSIGHT_B_SECRET: 'x'.repeat(32) });
  const s = resolveDeliverySecrets(d, short, () => Buffer.from('PEM'));
  assert.deepEqual(short.problems, ['CHAINSIGHT_WEBHOOK_SECRET must be at least 32 bytes long']);
  assert.equal(s.secrets.get('b')?.toString(), 'x'.repeat(32));
  assert.equal(s.cas.get('b')?.toString(), 'PEM');
  assert.equal(readDispatchRole(new EnvReader({})), true);
  assert.equal(readDispatchRole(new EnvReader({ CHAINSIGHT_ALERT_DISPATCH: 'off' })), false);
  const bad = new EnvReader({ CHAINSIGHT_ALERT_DISPATCH: 'maybe' });
  readDispatchRole(bad);
  assert.equal(bad.problems.length, 1);
});

const on: ResponseConfig = { ...DEFAULT_RESPONSE, enabled: true, minSeverity: 'high' };

test('the response acts on a firing alert of the configured kinds at or above the severity, naming one culprit', () => {
  const link = planResponse(change({ kind: 'integrity.link_reuse', severity: 'critical', linkIds: ['jti-9', 'jti-9'] }), on);
  assert.equal(link.do, 'revoke');
  assert.ok(link.do === 'revoke' && link.kind === 'link' && link.target === 'jti-9' && link.action === 'revoke_link');
  assert.ok(link.do === 'revoke' && link.reason.startsWith(`alert ${change({ kind: 'integrity.link_reuse' }).id} (integrity.link_reuse, critical)`));
  const agent = planResponse(change({ kind: 'integrity.not_delegatee', severity: 'high', agents: ['spiffe://a/x', 'spiffe://a/y'], facts: { agent: 'spiffe://a/y' } }), on);
  assert.ok(agent.do === 'revoke' && agent.kind === 'agent' && agent.target === 'spiffe://a/y');
  // What the integrity detectors name: the presenter of another's chain, the reused jti.
  const presenter = planResponse(change({ kind: 'integrity.not_delegatee', agents: ['spiffe://a/rogue', 'spiffe://a/scanner'], facts: { presenter: 'spiffe://a/rogue' } }), on);
  assert.ok(presenter.do === 'revoke' && presenter.target === 'spiffe://a/rogue');
  const jti = planResponse(change({ linkIds: ['h1', 'h2'], facts: { jti: 'jti-shared' } }), on);
  assert.ok(jti.do === 'revoke' && jti.kind === 'link' && jti.target === 'jti-shared');
});

test('the response does nothing when off, below the severity, for an unlisted kind or a resolution; skips when the culprit is ambiguous', () => {
  const c = change({ kind: 'integrity.link_reuse', severity: 'critical' });
  assert.deepEqual(planResponse(c, DEFAULT_RESPONSE), { do: 'none' });
  assert.deepEqual(planResponse(change({ severity: 'medium' }), on), { do: 'none' });
  assert.deepEqual(planResponse(change({ kind: 'delegation.new_edge' }), on), { do: 'none' });
  assert.deepEqual(planResponse(change({ status: 'resolved' }), on), { do: 'none' });
  assert.deepEqual(planResponse(change({ linkIds: ['j1', 'j2'] }), on), { do: 'skip', action: 'revoke_link', reason: 'the evidence does not name exactly one link' });
  assert.deepEqual(planResponse(change({ kind: 'integrity.not_delegatee', agents: ['a', 'b'] }), on).do, 'skip');
  const hostile = planResponse(change({ linkIds: ['j1'], subject: 'x\nFAKE LOG LINE' }), on);
  assert.ok(hostile.do === 'revoke' && !/[\n\r]/.test(hostile.reason), 'control characters never reach the reason');
});

test('only the dispatching process needs the secrets; the others accept them unread', () => {
  const problems: string[] = [];
  const d = parseDeliveryConfig({ destinations: [{ name: 'a', url: 'https://a.example/' }] }, '/delivery', problems);
  const off = new EnvReader({ CHAINSIGHT_ALERT_DISPATCH: 'off', CHAINSIGHT_WEBHOOK_SECRET: 'short' });
  assert.deepEqual(readAlertDeliveryEnv(off, d), { secrets: { secrets: new Map(), cas: new Map() }, dispatch: false });
  assert.deepEqual(off.problems, []);
  assert.deepEqual(off.unknownChainsightVariables(), []);
  const on = new EnvReader({});
  assert.equal(readAlertDeliveryEnv(on, d).dispatch, true);
  assert.deepEqual(on.problems, ['CHAINSIGHT_WEBHOOK_SECRET must be set: destination "a" signs what it sends with it']);
  const detectionOff = new EnvReader({});
  readAlertDeliveryEnv(detectionOff, undefined);
  assert.deepEqual(detectionOff.problems, [], 'detection off: nothing is delivered, nothing required');
});
