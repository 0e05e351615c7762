/**
 * `chainsight demo`: the seed's quarterly infrastructure review, end to end on
 * the embedded store. Alice authorizes a planning agent, which delegates to
 * four sub-agents with narrowing scopes; every agent is a real OTel SDK user
 * exporting over HTTP to a chainsight server started here. A few actions are
 * deliberately bad. The demo prints the task tree and checks it against what
 * the agents emitted.
 */
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SpanKind, trace, context, type Context, type Span } from '@opentelemetry/api';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../runtime/logger.js';
import { startServer } from '../runtime/server.js';
import { generateKey, type SigningKey } from '../sdk/keys.js';
import { mintChild, mintRoot } from '../sdk/mint.js';
import {
  OPERATION, agentSpanAttributes, currentTaskId, propagationHeaders, spanName, startAgentTelemetry, withIncomingHeaders, withTask,
  type AgentTelemetry,
} from '../sdk/telemetry.js';
import type { ActionView } from '../store/queries.js';
import type { TaskTree } from '../serve/tree.js';
import type { AlertView } from '../alert/store.js';
import { renderAlertTable } from '../cli/alert-commands.js';
import {
  AGENTS, BAD_ACTIONS, EXPECTED_ALERTS, FOLLOW_UP, HUMAN, IMPLICATIONS, PURPOSE, TRUST_DOMAIN, expectedCounts, spread, type AgentKey, type AgentPlan,
} from './scenario.js';

export interface DemoOptions {
  dataDir: string;
  listActions: boolean;
  /** Where to print (default stdout). */
  out?: (line: string) => void;
  /** Receives the alerts `GET /api/alerts` listed at the end (tests). */
  onAlerts?: (alerts: AlertView[]) => void;
  /** Run the follow-up detection is shown on (default true); tests about the review's own data leave it out. */
  followUp?: boolean;
}

interface LiveAgent {
  plan: AgentPlan;
  key: SigningKey;
  telemetry: AgentTelemetry;
  chain: string[];
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Re-encodes a link's payload with an extra scope, keeping the old signature: a forgery. */
function tamper(token: string, extraScope: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as { scope: string[] };
  claims.scope = [...claims.scope, extraScope];
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

export async function runDemo(opts: DemoOptions): Promise<boolean> {
  const print = opts.out ?? ((line: string) => process.stdout.write(line + '\n'));
  const dataDir = resolve(opts.dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const trustDir = join(dataDir, 'trust');

  // Keys: the trust domain's authorization key (signs Alice's grant) and one key per agent.
  const authz = (await generateKey({ dir: trustDir, trustDomain: TRUST_DOMAIN, authorization: true })).signingKey;
  const keys = new Map<AgentKey, SigningKey>();
  for (const a of AGENTS) keys.set(a.key, (await generateKey({ dir: trustDir, trustDomain: TRUST_DOMAIN, principal: a.spiffeId })).signingKey);
  // Registered like any agent, but never part of the review: the follow-up's unexpected planner.
  const rogueKey = (await generateKey({ dir: trustDir, trustDomain: TRUST_DOMAIN, principal: FOLLOW_UP.rogue.spiffeId })).signingKey;
  const policyPath = join(dataDir, 'policy.json');
  await writeFile(policyPath, JSON.stringify({ maxDepth: 5, maxLifetimeSec: 4 * 3600, implications: IMPLICATIONS }, null, 2) + '\n');

  const rulesPath = join(dataDir, 'rules.yaml');
  await copyFile(DEMO_RULES, rulesPath);
  const detectionPath = join(dataDir, 'detection.yaml');
  await copyFile(DEMO_DETECTION, detectionPath);
  const env = { ...process.env, CHAINSIGHT_DETECTION: detectionPath };
  const config = loadConfig(env, { data: dataDir, trustDir, policy: policyPath, rules: rulesPath, otlpPort: 0, apiPort: 0 }, { logLevel: 'warn' });
  const logger = createLogger(config.logLevel);
  const server = await startServer(config, logger);
  print(`chainsight is listening: OTLP/HTTP ${server.otlpUrl}/v1/traces, query API ${server.apiUrl} (store: ${config.store.target.kind})`);

  const agents: LiveAgent[] = [];
  try {
    // Alice's request, an hour ago on a minute boundary, so the tree reads like the seed's.
    const t0 = Math.floor(Date.now() / MIN) * MIN - 60 * MIN;
    const taskId = `task-${randomUUID().slice(0, 8)}`;
    const planning = AGENTS.find((a) => a.key === 'planning')!;
    const rootChain = await mintRoot({ authzKey: authz, human: HUMAN, agent: planning.spiffeId, scope: planning.scope, task: taskId, purpose: PURPOSE, ttlSec: 2 * 3600, now: t0 });
    for (const plan of AGENTS) {
      const chain = plan.key === 'planning'
        ? rootChain
        : await mintChild({ parentChain: rootChain, signerKey: keys.get('planning')!, delegatee: plan.spiffeId, scope: plan.scope, ttlSec: 3600, now: t0 + 5_000, implications: IMPLICATIONS });
      const telemetry = startAgentTelemetry({
        serviceName: plan.name, agentId: plan.spiffeId, url: `${server.otlpUrl}/v1/traces`, encoding: plan.encoding,
        compression: plan.encoding === 'json' ? 'gzip' : 'none',
      });
      agents.push({ plan, key: keys.get(plan.key)!, telemetry, chain });
    }
    print(`\n${HUMAN} asks for the "${PURPOSE}" (task ${taskId}); the planning agent delegates to ${AGENTS.length - 1} agents.`);

    const bad = await badChains(agents, authz, taskId, t0);
    const badSpans: BadSpans = new Map();
    const emitted = new Map<string, number>();
    const count = (a: AgentPlan) => emitted.set(a.spiffeId, (emitted.get(a.spiffeId) ?? 0) + 1);

    const planner = agents[0]!;
    withTask(taskId, () => {
      const tracer = planner.telemetry.tracer;
      const attrs = (extra: Partial<Parameters<typeof agentSpanAttributes>[0]>) =>
        agentSpanAttributes({ chain: planner.chain, taskId: currentTaskId()!, agentId: planner.plan.spiffeId, agentName: planner.plan.name, operation: OPERATION.invokeAgent, ...extra });
      const root = tracer.startSpan(spanName.invokeAgent(planner.plan.name), { kind: SpanKind.SERVER, startTime: t0 + 5_000, attributes: attrs({}) });
      count(planner.plan);
      const rootCtx = trace.setSpan(context.active(), root);
      // The planner's own reasoning steps (model calls: no cloud scope exercised).
      for (const ts of spread(t0, 10, [0, 45])) {
        tracer.startSpan('chat planning-model', { startTime: ts, attributes: attrs({ operation: 'chat' }) }, rootCtx).end(ts + 1500);
        count(planner.plan);
      }
      for (const sub of agents.slice(1)) {
        const start = t0 + sub.plan.window[0] * MIN;
        const invoke = tracer.startSpan(spanName.invokeAgent(sub.plan.name), { kind: SpanKind.CLIENT, startTime: start, attributes: attrs({ delegationTarget: sub.plan.spiffeId }) }, rootCtx);
        count(planner.plan);
        // The sub-agent receives the task over "the wire": trace context and baggage headers only.
        const headers = propagationHeaders(trace.setSpan(context.active(), invoke));
        withIncomingHeaders(headers, () => runSubAgent(sub, bad, badSpans, t0, () => count(sub.plan)));
        invoke.end(t0 + sub.plan.window[1] * MIN);
      }
      root.end(t0 + 45 * MIN);
    });

    // Every exporter flushes; the receiver answers only once ClickHouse has the rows.
    await Promise.all(agents.map((a) => a.telemetry.forceFlush()));
    const total = [...emitted.values()].reduce((a, b) => a + b, 0);
    print(`The agents emitted ${total} spans over OTLP/HTTP (protobuf and JSON, gzip and plain).\n`);

    const treeText = await get(`${server.apiUrl}/api/tasks/${taskId}/tree?format=text${opts.listActions ? '&actions=true' : ''}`);
    print(treeText.trimEnd());
    const tree = JSON.parse(await get(`${server.apiUrl}/api/tasks/${taskId}/tree`)) as TaskTree;
    const { actions } = JSON.parse(await get(`${server.apiUrl}/api/tasks/${taskId}/actions`)) as { actions: ActionView[] };
    let ok = selfCheck(tree, actions, emitted, badSpans, print);

    const withFollowUp = opts.followUp ?? true;
    if (withFollowUp) {
      // Detection learned the review as the baseline; now what it is there to catch.
      await sleep(LEARNING_MS);
      // The cross-agent rules count in tumbling windows aligned on the epoch (an hour here): the follow-up's six
      // minutes start on the hour before the last seven minutes, so the touches it is about share one window.
      const t1 = Math.floor((Date.now() - 7 * MIN) / HOUR) * HOUR;
      const more = await followUp(agents, keys, rogueKey, authz, server.otlpUrl, t1);
      print(`\nDetection learned the review as its baseline. Then ${more.story}`);
    }
    const expected = EXPECTED_ALERTS.filter((e) => withFollowUp || e.part === 'review');
    const alerts = await awaitAlerts(server.apiUrl, expected);
    opts.onAlerts?.(alerts);
    print(`\nAlerts (GET /api/alerts, as \`npx chainsight alerts\` lists them):\n`);
    print(renderAlertTable(alerts));
    ok = alertCheck(alerts, expected, print) && ok;
    print(`\nExplore it: CHAINSIGHT_DETECTION=${join(opts.dataDir, 'detection.yaml')} npx chainsight serve --data ${opts.dataDir} --policy ${join(opts.dataDir, 'policy.json')} --rules ${join(opts.dataDir, 'rules.yaml')}`);
    print(`  then: npx chainsight tree ${taskId} --actions   or   curl 'http://127.0.0.1:8480/api/tasks/${taskId}/tree?format=text'`);
    print(`  and:  npx chainsight alerts   or   npx chainsight alerts show <id>`);
    print(`  or open the analyst console: http://127.0.0.1:8480/console/#/tasks/${taskId}`);
    return ok;
  } finally {
    await Promise.allSettled(agents.map((a) => a.telemetry.shutdown()));
    await server.stop();
  }
}

interface BadChains {
  stale: string[];
  tampered: string[];
  stolen: string[];
  longWrite: string[];
}

/** The policy the demo enforces (policies/demo.yaml; the same depth below the package root from src/ and dist/). */
const DEMO_RULES = fileURLToPath(new URL('../../policies/demo.yaml', import.meta.url));
/** The demo's detection configuration: learning and windows of seconds (policies/demo-detection.yaml). */
const DEMO_DETECTION = fileURLToPath(new URL('../../policies/demo-detection.yaml', import.meta.url));
/** A little longer than the demo's learning period (learning_sec: 2). */
const LEARNING_MS = 2_500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The chains behind the deliberately bad actions. */
async function badChains(agents: LiveAgent[], authz: SigningKey, taskId: string, t0: number): Promise<BadChains> {
  const planning = agents[0]!;
  const cost = agents.find((a) => a.plan.key === 'cost')!;
  const report = agents.find((a) => a.plan.key === 'report')!;
  // Last quarter's grant, long expired, replayed for this task.
  const oldRoot = await mintRoot({ authzKey: authz, human: HUMAN, agent: planning.plan.spiffeId, scope: planning.plan.scope, task: taskId, purpose: PURPOSE, ttlSec: 2 * 3600, now: t0 - 3 * 3600_000 });
  const stale = await mintChild({ parentChain: oldRoot, signerKey: planning.key, delegatee: cost.plan.spiffeId, scope: cost.plan.scope, ttlSec: 3600, now: t0 - 3 * 3600_000 + 10_000, implications: IMPLICATIONS });
  const last = report.chain[report.chain.length - 1]!;
  const tampered = [...report.chain.slice(0, -1), tamper(last, 'email:SendExternal')];
  const stolen = agents.find((a) => a.plan.key === 'inventory')!.chain;
  // Valid in every way the verifier checks, but longer-lived than the policy allows for a write scope.
  const longWrite = await mintChild({ parentChain: planning.chain, signerKey: planning.key, delegatee: report.plan.spiffeId, scope: report.plan.scope, ttlSec: 100 * 60, now: t0 + 5_000, implications: IMPLICATIONS });
  return { stale, tampered, stolen, longWrite };
}

/** Span ids of the deliberately bad actions, with the reason each must be flagged for. */
type BadSpans = Map<string, (typeof BAD_ACTIONS)[number]>;

function runSubAgent(agent: LiveAgent, bad: BadChains, badSpans: BadSpans, t0: number, count: () => void): void {
  const tracer = agent.telemetry.tracer;
  const taskId = currentTaskId()!; // arrived as W3C baggage
  const plan = agent.plan;
  const attrs = (chain: string[], extra: Partial<Parameters<typeof agentSpanAttributes>[0]>) =>
    agentSpanAttributes({ chain, taskId, agentId: plan.spiffeId, agentName: plan.name, operation: OPERATION.executeTool, ...extra });
  const start = t0 + plan.window[0] * MIN + 2_000;
  const root = tracer.startSpan(spanName.invokeAgent(plan.name), { kind: SpanKind.SERVER, startTime: start, attributes: attrs(agent.chain, { operation: OPERATION.invokeAgent }) });
  count();
  const ctx: Context = trace.setSpan(context.active(), root);
  const emit = (chain: string[], ts: number, tool: { tool: string; scope: string; resource: string }): Span => {
    const span = tracer.startSpan(spanName.executeTool(tool.tool), { kind: SpanKind.CLIENT, startTime: ts, attributes: attrs(chain, { toolName: tool.tool, scopesUsed: [tool.scope], resource: tool.resource }) }, ctx);
    span.end(ts + 800);
    count();
    return span;
  };
  spread(t0, plan.actions - 1, plan.window).forEach((ts, i) => emit(agent.chain, ts, plan.tools[i % plan.tools.length]!));
  for (const b of BAD_ACTIONS.filter((x) => x.agent === plan.key)) {
    const chain = { expired: bad.stale, tampered: bad.tampered, stolen: bad.stolen, 'long-write': bad.longWrite, scope: agent.chain }[b.kind];
    badSpans.set(emit(chain, t0 + b.minute * MIN, b).spanContext().spanId, b);
  }
  root.end(t0 + plan.window[1] * MIN);
}

async function get(url: string): Promise<string> {
  const res = await fetch(url);
  const body = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${body}`);
  return body;
}

/** Compares what chainsight stored with what the agents emitted; prints each check. */
function selfCheck(tree: TaskTree, actions: ActionView[], emitted: Map<string, number>, badSpans: BadSpans, print: (l: string) => void): boolean {
  const lines: string[] = [];
  let ok = true;
  const check = (pass: boolean, text: string) => {
    ok &&= pass;
    lines.push(`  ${pass ? '✓' : '✗'} ${text}`);
  };
  const expected = expectedCounts();
  const emittedTotal = [...emitted.values()].reduce((a, b) => a + b, 0);
  check(tree.total === emittedTotal && actions.length === emittedTotal, `${tree.total} actions stored, ${emittedTotal} emitted by the agents`);
  for (const [agentId, n] of emitted) {
    const stored = tree.actionsByAgent[agentId] ?? 0;
    check(stored === n && n === expected.get(agentId), `${AGENTS.find((a) => a.spiffeId === agentId)?.name}: ${stored} stored = ${n} emitted`);
  }
  const legit = actions.filter((a) => !badSpans.has(a.span_id));
  const legitFailed = legit.filter((a) => a.verdict !== 'verified');
  check(legitFailed.length === 0, `all ${legit.length} legitimate actions verified${legitFailed.length ? ` (${legitFailed.length} were not: ${legitFailed.slice(0, 3).map((a) => a.reasons.join('+')).join(', ')})` : ''}`);
  for (const [spanId, b] of badSpans) {
    const hit = actions.find((a) => a.span_id === spanId);
    check(!!hit && hit.verdict === 'failed' && hit.reasons.includes(b.expect), `flagged ${b.expect}: ${b.story}${hit ? ` → [${hit.reasons.join(', ')}]` : ' (not stored)'}`);
  }
  check(badSpans.size === BAD_ACTIONS.length, `${badSpans.size} of ${BAD_ACTIONS.length} bad actions sent`);
  print('\nChecks against what the agents emitted:');
  for (const l of lines) print(l);
  return ok;
}

/** The follow-up part (scenario.ts FOLLOW_UP), through the agents' own exporters plus two new ones; resolves once stored. */
async function followUp(agents: LiveAgent[], keys: Map<AgentKey, SigningKey>, rogueKey: SigningKey, authz: SigningKey, otlpUrl: string, t1: number): Promise<{ story: string }> {
  const f = FOLLOW_UP;
  const ttlSec = f.linkTtlSec;
  const by = (k: AgentKey) => agents.find((a) => a.plan.key === k)!;
  const task = `task-${randomUUID().slice(0, 8)}`;
  const other = `task-${randomUUID().slice(0, 8)}`;
  const planning = by('planning');
  const mint = (parentChain: string[], signer: SigningKey, delegatee: string, scope: string[], at: number) =>
    mintChild({ parentChain, signerKey: signer, delegatee, scope, ttlSec, now: at, implications: IMPLICATIONS });
  const root = await mintRoot({ authzKey: authz, human: HUMAN, agent: planning.plan.spiffeId, scope: planning.plan.scope, task, purpose: f.purpose, ttlSec, now: t1 });
  const inventory = await mint(root, keys.get('planning')!, by('inventory').plan.spiffeId, ['cloud:read'], t1 + 5_000);
  const security = await mint(root, keys.get('planning')!, by('security').plan.spiffeId, ['security:read'], t1 + 5_000);
  const report = await mint(root, keys.get('planning')!, by('report').plan.spiffeId, ['reports:write'], t1 + 5_000);
  // The inventory agent hands the task to a planner instance nobody has seen, which delegates on: chains of 3 and 4 links.
  const rogue = await mint(inventory, keys.get('inventory')!, f.rogue.spiffeId, ['cloud:read'], t1 + 10_000);
  const rogueScanner = await mint(rogue, rogueKey, f.rogueScanner.spiffeId, ['s3:List*'], t1 + 15_000);
  const bobRoot = await mintRoot({ authzKey: authz, human: f.otherHuman, agent: planning.plan.spiffeId, scope: planning.plan.scope, task: other, purpose: f.otherPurpose, ttlSec, now: t1 });
  const bobInventory = await mint(bobRoot, keys.get('planning')!, by('inventory').plan.spiffeId, ['cloud:read'], t1 + 5_000);

  const newcomers = [f.rogue, f.rogueScanner].map((n) => startAgentTelemetry({ serviceName: n.name, agentId: n.spiffeId, url: `${otlpUrl}/v1/traces` }));
  const s3 = { tool: 'aws.s3.ListObjects', scope: 's3:ListObjects', resource: f.resource };
  const act = (telemetry: AgentTelemetry, agentId: string, agentName: string, chain: string[], taskId: string, at: number, tool?: { tool: string; scope: string; resource: string }) => {
    const attributes = agentSpanAttributes({
      chain, taskId, agentId, agentName, operation: tool ? OPERATION.executeTool : OPERATION.invokeAgent,
      ...(tool ? { toolName: tool.tool, scopesUsed: [tool.scope], resource: tool.resource } : {}),
    });
    telemetry.tracer.startSpan(tool ? spanName.executeTool(tool.tool) : spanName.invokeAgent(agentName), { kind: tool ? SpanKind.CLIENT : SpanKind.SERVER, startTime: at, attributes }).end(at + 700);
  };
  // Five agents on the finance export within two minutes: each receives its task, then reads the export.
  const onExport: Array<[AgentTelemetry, string, string, string[], { tool: string; scope: string; resource: string }]> = [
    [planning.telemetry, planning.plan.spiffeId, planning.plan.name, root, s3],
    [by('inventory').telemetry, by('inventory').plan.spiffeId, by('inventory').plan.name, inventory, s3],
    [by('security').telemetry, by('security').plan.spiffeId, by('security').plan.name, security, { tool: 'aws.config.GetComplianceDetails', scope: 'config:GetComplianceDetailsByResource', resource: f.resource }],
    [newcomers[0]!, f.rogue.spiffeId, f.rogue.name, rogue, s3],
    [newcomers[1]!, f.rogueScanner.spiffeId, f.rogueScanner.name, rogueScanner, s3],
  ];
  onExport.forEach(([telemetry, id, name, chain, tool], i) => {
    act(telemetry, id, name, chain, task, t1 + 20_000 + i * 1000);
    act(telemetry, id, name, chain, task, t1 + 60_000 + i * 10_000, tool);
  });
  // The report generator, asked to send the board pack, edits its link again and retries.
  const forged = [...report.slice(0, -1), tamper(report[report.length - 1]!, 'email:SendExternal')];
  const rep = by('report');
  for (let i = 0; i < f.forgedRetries; i++) act(rep.telemetry, rep.plan.spiffeId, rep.plan.name, forged, task, t1 + 3 * MIN + i * 5_000, { tool: 'email.send', scope: 'email:SendExternal', resource: 'mailto:board@partner.example' });
  // Bob's budget check reads the same export minutes later; the cost analyzer replays its review chain in it.
  act(planning.telemetry, planning.plan.spiffeId, planning.plan.name, bobRoot, other, t1 + 4 * MIN);
  act(planning.telemetry, planning.plan.spiffeId, planning.plan.name, bobRoot, other, t1 + 4 * MIN + 10_000, { tool: 'aws.ce.GetCostForecast', scope: 'ce:GetCostForecast', resource: 'arn:aws:ce:us-east-1:111122223333:/GetCostForecast' });
  act(by('inventory').telemetry, by('inventory').plan.spiffeId, by('inventory').plan.name, bobInventory, other, t1 + 4 * MIN + 20_000);
  act(by('inventory').telemetry, by('inventory').plan.spiffeId, by('inventory').plan.name, bobInventory, other, t1 + 5 * MIN, s3);
  const cost = by('cost');
  act(cost.telemetry, cost.plan.spiffeId, cost.plan.name, cost.chain, other, t1 + 5 * MIN + 30_000, { tool: 'aws.ce.GetCostAndUsage', scope: 'ce:GetCostAndUsage', resource: 'arn:aws:ce:us-east-1:111122223333:/GetCostAndUsage' });
  try {
    await Promise.all([...agents.map((a) => a.telemetry.forceFlush()), ...newcomers.map((t) => t.forceFlush())]);
  } finally {
    await Promise.allSettled(newcomers.map((t) => t.shutdown()));
  }
  return { story: `a follow-up task (${task}): the inventory agent hands work to a planner instance never seen before, which delegates on; five agents read ${f.resource} within two minutes; the report generator retries a forged link ${f.forgedRetries} times; ${f.otherHuman}'s task (${other}) reads the same export and the cost analyzer replays its review chain there.` };
}

/**
 * Polls GET /api/alerts until every expected kind is there (the windowed
 * detectors run every second) or 20 s pass, then reads once more after two
 * more evaluations, so an alert that would come late is not missed.
 */
async function awaitAlerts(apiUrl: string, expected: readonly ExpectedAlert[]): Promise<AlertView[]> {
  const list = async () => (JSON.parse(await get(`${apiUrl}/api/alerts?limit=200`)) as { alerts: AlertView[] }).alerts;
  const until = Date.now() + 20_000;
  for (;;) {
    const alerts = await list();
    if (expected.every((e) => alerts.some((a) => named(a, e))) || Date.now() > until) break;
    await sleep(250);
  }
  await sleep(2_000);
  return list();
}

type ExpectedAlert = (typeof EXPECTED_ALERTS)[number];

/** Whether an alert is the expected one: its kind, naming what it must name. */
export function named(a: AlertView, e: ExpectedAlert): boolean {
  return a.kind === e.kind && `${a.subject} ${a.agents.join(' ')}`.includes(e.names);
}

/** Every expected alert raised, nothing else open: the review's normal actions raise nothing. */
function alertCheck(alerts: AlertView[], expected: readonly ExpectedAlert[], print: (l: string) => void): boolean {
  const lines: string[] = [];
  let ok = true;
  for (const e of expected) {
    const hit = alerts.some((a) => named(a, e));
    ok &&= hit;
    lines.push(`  ${hit ? '✓' : '✗'} ${e.kind}: ${e.story}`);
  }
  // A finding judged while a batch was half stored (its grants before its uses) resolves itself at the next evaluation: shown, not counted.
  const others = alerts.filter((a) => !expected.some((e) => named(a, e)));
  const unexpected = others.filter((a) => a.state !== 'resolved');
  ok &&= unexpected.length === 0;
  lines.push(`  ${unexpected.length === 0 ? '✓' : '✗'} nothing else open${unexpected.length ? `: ${unexpected.map((a) => `${a.kind} ${a.subject}`).join('; ')}` : ''}`);
  for (const a of others.filter((x) => x.state === 'resolved')) lines.push(`    (raised and resolved itself: ${a.kind} ${a.subject}: ${a.resolution ?? ''})`);
  print('\nChecks against what the scenario should raise:');
  for (const l of lines) print(l);
  return ok;
}
