/**
 * Test helper: whole tasks of the planner → inventory → scanner story as real
 * OpenTelemetry SDK spans carrying real delegation chains, with what the
 * processor must conclude about each span. Shared by the Kafka end-to-end tests.
 */
import { ROOT_CONTEXT, SpanKind, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { SigningKey } from '../../src/sdk/keys.js';
import { mintChild, mintRoot } from '../../src/sdk/mint.js';
import { agentSpanAttributes } from '../../src/sdk/telemetry.js';
import { HUMAN, INVENTORY_SCOPE, PLANNER_SCOPE, ROOT_SCOPE, type TestDomain } from './keys.js';
import { recordSpans } from './otel.js';

export const PURPOSE = 'quarterly infrastructure review';
export type AgentName = 'planner' | 'inventory' | 'scanner';

/** The three chains of one task: each agent's own, root first. */
export type TaskChains = Record<AgentName, string[]>;

export async function mintTaskChains(d: TestDomain, taskId: string, now = Date.now() - 60_000): Promise<TaskChains> {
  const planner = await mintRoot({ authzKey: d.authz, human: HUMAN, agent: d.id('planner'), scope: ROOT_SCOPE, task: taskId, purpose: PURPOSE, ttlSec: 7200, now });
  const inventory = await mintChild({ parentChain: planner, signerKey: d.agents.planner as SigningKey, delegatee: d.id('inventory'), scope: PLANNER_SCOPE, ttlSec: 3600, now });
  const scanner = await mintChild({ parentChain: inventory, signerKey: d.agents.inventory as SigningKey, delegatee: d.id('scanner'), scope: INVENTORY_SCOPE, ttlSec: 1800, now });
  return { planner, inventory, scanner };
}

/** What the processor must store for one span. */
export interface ExpectedAction {
  key: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  agent: AgentName;
  verdict: 'verified' | 'failed';
  reasons: string[];
}

export interface RecordedTask {
  taskId: string;
  /** Every span of the task, all agents. */
  spans: ReadableSpan[];
  byAgent: Record<AgentName, ReadableSpan[]>;
  /** By `${traceId}/${spanId}`. */
  expected: Map<string, ExpectedAction>;
}

export interface TaskShape {
  /** execute_tool spans of the inventory agent (default 3). */
  inventoryTools?: number;
  /** Separate scanner jobs; the first continues the inventory agent's trace, the rest start their own (default 2). */
  scannerJobs?: number;
  /** execute_tool spans per scanner job, besides one nested child of the first (default 3). */
  scannerTools?: number;
  /** Add a scope breach and a borrowed chain to the first scanner job (default true). */
  bad?: boolean;
}

export const spanKey = (s: ReadableSpan): string => `${s.spanContext().traceId}/${s.spanContext().spanId}`;

/** Span names the builder gives deliberately failing actions, with the reason the verifier must give. */
const BAD_REASONS: Record<string, string[]> = {
  'execute_tool delete_snapshot': ['scope.exceeded'],
  'execute_tool read_inventory_db': ['agent.mismatch'],
};

/** An agent's resource attributes (service.name, gen_ai.agent.id). */
export function resource(d: TestDomain, agent: AgentName) {
  return { 'service.name': agent, 'gen_ai.agent.id': d.id(agent) };
}

/**
 * Emits one task's spans through the agents' tracers: the planner's root span
 * and its delegation to the inventory agent; the inventory agent's tools and
 * its delegation to the scanner; the scanner's jobs (tools, one nested tool
 * call, optionally the two bad actions). Cross-agent parents come from the
 * propagated context, as they would over HTTP. Every span is ended on return.
 */
export function emitTask(d: TestDomain, taskId: string, chains: TaskChains, tracers: Record<AgentName, Tracer>, shape: TaskShape = {}): void {
  const inventoryTools = shape.inventoryTools ?? 3;
  const scannerJobs = shape.scannerJobs ?? 2;
  const scannerTools = shape.scannerTools ?? 3;
  const bad = shape.bad ?? true;
  const attrs = (agent: AgentName, operation: string, extra: { toolName?: string; scopesUsed?: string[]; resource?: string; delegationTarget?: string; chain?: string[] } = {}) =>
    agentSpanAttributes({ chain: extra.chain ?? chains[agent], taskId, agentId: d.id(agent), agentName: agent, operation, ...extra });
  const start = (agent: AgentName, name: string, attributes: ReturnType<typeof attrs>, parent: Context, kind = SpanKind.INTERNAL) =>
    tracers[agent].startSpan(name, { kind, attributes }, parent);

  const root = start('planner', 'invoke_agent planner', attrs('planner', 'invoke_agent'), ROOT_CONTEXT, SpanKind.SERVER);
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const delegate = start('planner', 'invoke_agent inventory', attrs('planner', 'invoke_agent', { delegationTarget: d.id('inventory') }), rootCtx, SpanKind.CLIENT);
  const delegateCtx = trace.setSpan(rootCtx, delegate);

  const inv = start('inventory', 'invoke_agent inventory', attrs('inventory', 'invoke_agent'), delegateCtx, SpanKind.SERVER);
  const invCtx = trace.setSpan(delegateCtx, inv);
  for (let i = 0; i < inventoryTools; i++) {
    start('inventory', 'execute_tool list_accounts', attrs('inventory', 'execute_tool', { toolName: 'list_accounts', scopesUsed: ['cloud:list'], resource: `account-${i}` }), invCtx).end();
  }
  const toScanner = start('inventory', 'invoke_agent scanner', attrs('inventory', 'invoke_agent', { delegationTarget: d.id('scanner') }), invCtx, SpanKind.CLIENT);
  const toScannerCtx = trace.setSpan(invCtx, toScanner);

  for (let job = 0; job < scannerJobs; job++) {
    // The first job answers the delegation in its trace; later ones start traces of their own (say, from a work queue).
    const parent = job === 0 ? toScannerCtx : ROOT_CONTEXT;
    const sRoot = start('scanner', 'invoke_agent scanner', attrs('scanner', 'invoke_agent'), parent, SpanKind.SERVER);
    const sCtx = trace.setSpan(parent, sRoot);
    for (let i = 0; i < scannerTools; i++) {
      const tool = start('scanner', 'execute_tool describe_instances', attrs('scanner', 'execute_tool', { toolName: 'describe_instances', scopesUsed: ['cloud:read'], resource: `vm-${job}-${i}` }), sCtx);
      if (i === 0) {
        start('scanner', 'execute_tool describe_volumes', attrs('scanner', 'execute_tool', { toolName: 'describe_volumes', scopesUsed: ['cloud:read'], resource: `vol-${job}` }), trace.setSpan(sCtx, tool)).end();
      }
      tool.end();
    }
    if (bad && job === 0) {
      start('scanner', 'execute_tool delete_snapshot', attrs('scanner', 'execute_tool', { toolName: 'delete_snapshot', scopesUsed: ['cloud:delete'], resource: 'snap-1' }), sCtx).end();
      // The inventory agent's chain presented by the scanner: a stolen credential.
      start('scanner', 'execute_tool read_inventory_db', attrs('scanner', 'execute_tool', { toolName: 'read_inventory_db', scopesUsed: ['cloud:read'], chain: chains.inventory }), sCtx).end();
    }
    sRoot.end();
  }
  toScanner.end();
  inv.end();
  delegate.end();
  root.end();
}

/** What the processor must conclude about each of these spans, by `${traceId}/${spanId}`. */
export function expectationsFor(byAgent: Record<AgentName, ReadableSpan[]>): Map<string, ExpectedAction> {
  const expected = new Map<string, ExpectedAction>();
  for (const agent of ['planner', 'inventory', 'scanner'] as const) {
    for (const s of byAgent[agent]) {
      const reasons = BAD_REASONS[s.name] ?? [];
      expected.set(spanKey(s), {
        key: spanKey(s),
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId ?? '',
        name: s.name,
        agent,
        verdict: reasons.length ? 'failed' : 'verified',
        reasons,
      });
    }
  }
  return expected;
}

/** emitTask with each agent's spans kept in memory (ended spans, children before parents), ready to serialize. */
export async function recordTask(d: TestDomain, taskId: string, chains: TaskChains, shape: TaskShape = {}): Promise<RecordedTask> {
  const byAgent = {} as Record<AgentName, ReadableSpan[]>;
  byAgent.planner = await recordSpans(resource(d, 'planner'), async (pt) => {
    byAgent.inventory = await recordSpans(resource(d, 'inventory'), async (it) => {
      byAgent.scanner = await recordSpans(resource(d, 'scanner'), (st) => emitTask(d, taskId, chains, { planner: pt, inventory: it, scanner: st }, shape));
    });
  });
  return { taskId, spans: [...byAgent.planner, ...byAgent.inventory, ...byAgent.scanner], byAgent, expected: expectationsFor(byAgent) };
}

/** How many spans recordTask makes for a shape, per agent. */
export function taskSize(shape: TaskShape = {}): Record<AgentName, number> {
  const jobs = shape.scannerJobs ?? 2;
  const tools = shape.scannerTools ?? 3;
  return {
    planner: 2,
    inventory: (shape.inventoryTools ?? 3) + 2,
    scanner: jobs * (1 + tools + 1) + ((shape.bad ?? true) && jobs > 0 ? 2 : 0),
  };
}
