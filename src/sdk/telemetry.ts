/**
 * Agent-side OpenTelemetry helpers: what an agent (or a test, or the demo)
 * needs to emit spans chainsight can verify. The attribute set is specified in
 * schemas/span-attributes.md.
 *
 * Built on @opentelemetry/sdk-node. One process may host several agents, each
 * with its own service.name and SPIFFE ID; NodeSDK's global start is a
 * per-process singleton with one resource, so each agent gets its own
 * unregistered NodeTracerProvider (sdk-node's `node` namespace) instead. Only
 * the context manager and the propagator (W3C trace context + W3C baggage)
 * are process-wide, installed once by installContextPropagation().
 */
import {
  type Attributes,
  type Context,
  type Tracer,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { core, node, resources, tracing } from '@opentelemetry/sdk-node';

const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = core;
const { defaultResource, resourceFromAttributes } = resources;
type ReadableSpan = tracing.ReadableSpan;
type Span = tracing.Span;
type SpanExporter = tracing.SpanExporter;
type SpanProcessor = tracing.SpanProcessor;
import { ATTR, BAGGAGE_TASK_ID } from '../model/span.js';

/** The OpenTelemetry semantic-conventions release whose GenAI attributes we follow (Development status). */
export const SEMCONV_VERSION = '1.41.0';

/** gen_ai.operation.name values chainsight's spans use. */
export const OPERATION = { invokeAgent: 'invoke_agent', executeTool: 'execute_tool' } as const;

export type OtlpHttpEncoding = 'protobuf' | 'json';

export interface AgentTelemetryOptions {
  /** resource service.name */
  serviceName: string;
  /** resource gen_ai.agent.id: the agent's SPIFFE ID */
  agentId: string;
  /** Full OTLP/HTTP traces URL, e.g. http://localhost:4318/v1/traces */
  url: string;
  /** protobuf → @opentelemetry/exporter-trace-otlp-proto, json → @opentelemetry/exporter-trace-otlp-http. Default protobuf. */
  encoding?: OtlpHttpEncoding;
  compression?: 'gzip' | 'none';
  headers?: Record<string, string>;
  timeoutMillis?: number;
  /** Extra resource attributes. */
  resourceAttributes?: Attributes;
  /** BatchSpanProcessor tuning. */
  batch?: {
    maxQueueSize?: number;
    maxExportBatchSize?: number;
    scheduledDelayMillis?: number;
    exportTimeoutMillis?: number;
  };
  /** Replaces the OTLP exporter (e.g. an in-memory exporter in tests); url/encoding are then unused. */
  exporter?: SpanExporter;
}

export interface AgentTelemetry {
  readonly tracer: Tracer;
  readonly provider: node.NodeTracerProvider;
  /** Exports everything ended so far; resolves once the exporter has been answered. */
  forceFlush(): Promise<void>;
  /** Flushes, then stops the provider and its exporter. */
  shutdown(): Promise<void>;
}

let propagationInstalled = false;

/**
 * Installs, once per process, the AsyncLocalStorage context manager and the
 * W3C trace-context + baggage propagator. Idempotent; a context manager set
 * by someone else first is left in place.
 */
export function installContextPropagation(): void {
  if (propagationInstalled) return;
  propagationInstalled = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
}

/** Starts one agent's tracer provider: resource, baggage task-id copier, batch export over OTLP/HTTP. */
export function startAgentTelemetry(opts: AgentTelemetryOptions): AgentTelemetry {
  installContextPropagation();
  const exporter = opts.exporter ?? createOtlpExporter(opts);
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...opts.resourceAttributes,
      [ATTR.serviceName]: opts.serviceName,
      [ATTR.agentId]: opts.agentId,
    }),
  );
  const provider = new node.NodeTracerProvider({
    resource,
    spanProcessors: [new TaskBaggageSpanProcessor(), new tracing.BatchSpanProcessor(exporter, opts.batch)],
  });
  const tracer = provider.getTracer('chainsight-agent', SEMCONV_VERSION);
  return {
    tracer,
    provider,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

function createOtlpExporter(opts: AgentTelemetryOptions): SpanExporter {
  const config = {
    url: opts.url,
    headers: opts.headers,
    timeoutMillis: opts.timeoutMillis,
    // The exporters type this as a string enum whose values are these literals.
    compression: (opts.compression ?? 'none') as never,
  };
  return (opts.encoding ?? 'protobuf') === 'json' ? new OtlpJsonExporter(config) : new OtlpProtoExporter(config);
}

/** Runs fn with chainsight.task.id set in the W3C baggage of the active context. */
export function withTask<T>(taskId: string, fn: () => T): T {
  const active = context.active();
  const baggage = (propagation.getBaggage(active) ?? propagation.createBaggage()).setEntry(BAGGAGE_TASK_ID, {
    value: taskId,
  });
  return context.with(propagation.setBaggage(active, baggage), fn);
}

/** The task id in the baggage of the given (default: active) context. */
export function currentTaskId(ctx: Context = context.active()): string | undefined {
  return propagation.getBaggage(ctx)?.getEntry(BAGGAGE_TASK_ID)?.value;
}

export interface AgentSpanAttributeInput {
  /** Compact JWS delegation links, root first. */
  chain: readonly string[];
  taskId: string;
  /** The acting agent's SPIFFE ID. */
  agentId: string;
  agentName: string;
  /** gen_ai.operation.name, e.g. invoke_agent or execute_tool. */
  operation: string;
  toolName?: string;
  /** Permissions this action exercised. */
  scopesUsed?: readonly string[];
  /** What the action touched (ARN, URL, table, ...). */
  resource?: string;
  /** On invoke_agent spans: the SPIFFE ID of the agent being delegated to. */
  delegationTarget?: string;
}

/** The attribute set of schemas/span-attributes.md for one agent span. */
export function agentSpanAttributes(a: AgentSpanAttributeInput): Attributes {
  const attrs: Attributes = {
    [ATTR.taskId]: a.taskId,
    [ATTR.chain]: [...a.chain],
    [ATTR.agentId]: a.agentId,
    [ATTR.agentName]: a.agentName,
    [ATTR.operation]: a.operation,
  };
  if (a.toolName !== undefined) attrs[ATTR.toolName] = a.toolName;
  if (a.scopesUsed !== undefined) attrs[ATTR.scopeUsed] = [...a.scopesUsed];
  if (a.resource !== undefined) attrs[ATTR.resource] = a.resource;
  if (a.delegationTarget !== undefined) attrs[ATTR.delegationTarget] = a.delegationTarget;
  return attrs;
}

/** Span names per the GenAI conventions. */
export const spanName = {
  invokeAgent: (agentName: string) => `${OPERATION.invokeAgent} ${agentName}`,
  executeTool: (toolName: string) => `${OPERATION.executeTool} ${toolName}`,
};

/**
 * Copies chainsight.task.id from the parent context's baggage onto every span
 * started without it, so the task id reaches spans that were created by code
 * unaware of chainsight (and crosses agents via the baggage header).
 */
export class TaskBaggageSpanProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    if (span.attributes[ATTR.taskId] !== undefined) return;
    const taskId = propagation.getBaggage(parentContext)?.getEntry(BAGGAGE_TASK_ID)?.value;
    if (taskId !== undefined) span.setAttribute(ATTR.taskId, taskId);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** traceparent, tracestate and baggage headers for the active context, for calls to another agent. */
export function propagationHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers, defaultTextMapSetter);
  return headers;
}

/** Runs fn in the context carried by incoming headers (trace parent and baggage; lowercase keys as Node gives them). */
export function withIncomingHeaders<T>(headers: Record<string, string | string[] | undefined>, fn: () => T): T {
  return context.with(propagation.extract(context.active(), headers, defaultTextMapGetter), fn);
}
