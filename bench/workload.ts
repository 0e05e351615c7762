/**
 * Benchmark workload: a trust domain, many 3-link Ed25519 chains, and OTLP
 * request bodies serialized by the OpenTelemetry SDK's own serializers, with
 * spans shaped like the demo's (15 attributes including the chain).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { generateKey, type SigningKey } from '../src/sdk/keys.js';
import { mintChild, mintRoot } from '../src/sdk/mint.js';
import { agentSpanAttributes } from '../src/sdk/telemetry.js';

export interface Workload {
  trustDir: string;
  implications: Record<string, string[]>;
  chains: string[][];
  /** Request bodies of `spansPerRequest` spans each. */
  protobuf: Uint8Array[];
  json: Uint8Array[];
  spans: number;
}

const TD = 'bench.example';
export const IMPLICATIONS = { 'infrastructure:review': ['cloud:read'], 'cloud:read': ['ec2:Describe*', 's3:List*'] };

/** `chains` distinct chains, each carried by `spansPerChain` spans, interleaved as concurrent tasks would be. */
export async function makeWorkload(opts: { chains: number; spansPerChain: number; spansPerRequest: number; baseMs?: number }): Promise<Workload> {
  const trustDir = await mkdtemp(join(tmpdir(), 'chainsight-bench-trust-'));
  const authz = (await generateKey({ dir: trustDir, trustDomain: TD, authorization: true })).signingKey;
  const planners: SigningKey[] = [];
  const workers: string[] = [];
  for (let i = 0; i < 4; i++) planners.push((await generateKey({ dir: trustDir, trustDomain: TD, principal: `spiffe://${TD}/agent/planning/p-${i}` })).signingKey);
  for (let i = 0; i < 16; i++) workers.push(`spiffe://${TD}/agent/inventory/w-${i}`);
  const now = opts.baseMs ?? Date.now() - 600_000;
  const chains: string[][] = [];
  const owners: string[] = [];
  for (let c = 0; c < opts.chains; c++) {
    const planner = planners[c % planners.length]!;
    const root = await mintRoot({ authzKey: authz, human: `user-${c % 50}@bench.example`, agent: planner.principal!, scope: ['infrastructure:review'], task: `task-${c}`, purpose: 'benchmark', ttlSec: 3 * 3600, now });
    const worker = workers[c % workers.length]!;
    const chain = await mintChild({ parentChain: root, signerKey: planner, delegatee: worker, scope: ['cloud:read'], ttlSec: 2 * 3600, now: now + 1000, implications: IMPLICATIONS });
    chains.push(chain);
    owners.push(worker);
  }
  // Third link: the worker hands a narrower slice to its tool runner, signed with the worker's own key.
  const threeLink: string[][] = [];
  const runners: string[] = [];
  const workerKeys = new Map<string, SigningKey>();
  for (let c = 0; c < chains.length; c++) {
    const worker = owners[c]!;
    let wk = workerKeys.get(worker);
    if (!wk) workerKeys.set(worker, (wk = (await generateKey({ dir: trustDir, trustDomain: TD, principal: worker })).signingKey));
    const runner = `${worker}/runner`;
    threeLink.push(await mintChild({ parentChain: chains[c]!, signerKey: wk, delegatee: runner, scope: ['ec2:Describe*'], ttlSec: 3600, now: now + 2000, implications: IMPLICATIONS }));
    runners.push(runner);
  }

  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': 'bench-agent', 'deployment.environment': 'bench' })),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench');
  const total = opts.chains * opts.spansPerChain;
  for (let i = 0; i < total; i++) {
    const c = i % opts.chains; // interleaved: concurrent tasks
    const ts = now + 5000 + i;
    const span = tracer.startSpan('execute_tool aws.ec2.DescribeInstances', {
      kind: SpanKind.CLIENT,
      startTime: ts,
      attributes: {
        ...agentSpanAttributes({
          chain: threeLink[c]!, taskId: `task-${c}`, agentId: runners[c]!, agentName: 'runner', operation: 'execute_tool',
          toolName: 'aws.ec2.DescribeInstances', scopesUsed: ['ec2:DescribeInstances'], resource: `arn:aws:ec2:eu-west-1:111122223333:instance/i-${i.toString(16)}`,
        }),
        'cloud.provider': 'aws', 'cloud.region': 'eu-west-1', 'rpc.system': 'aws-api', 'rpc.service': 'EC2', 'rpc.method': 'DescribeInstances',
        'aws.request_id': `req-${i}`, 'http.response.status_code': 200,
      },
    });
    span.end(ts + 3);
  }
  await provider.forceFlush();
  const finished: ReadableSpan[] = exporter.getFinishedSpans();
  await provider.shutdown();
  const protobuf: Uint8Array[] = [];
  const json: Uint8Array[] = [];
  for (let i = 0; i < finished.length; i += opts.spansPerRequest) {
    const slice = finished.slice(i, i + opts.spansPerRequest);
    protobuf.push(ProtobufTraceSerializer.serializeRequest(slice)!);
    json.push(JsonTraceSerializer.serializeRequest(slice)!);
  }
  return { trustDir, implications: IMPLICATIONS, chains: threeLink, protobuf, json, spans: finished.length };
}
