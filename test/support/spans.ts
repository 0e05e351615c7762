import type { AgentSpan } from '../../src/model/span.js';

let seq = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/** An AgentSpan with sensible defaults; override what the test is about. */
export function makeSpan(over: Partial<AgentSpan> = {}): AgentSpan {
  const n = ++seq;
  const startMs = over.startMs ?? Date.UTC(2026, 2, 27, 14, 0, 0) + n;
  return {
    traceId: hex(1, 32),
    spanId: hex(n, 16),
    parentSpanId: '',
    name: 'execute_tool ec2.DescribeInstances',
    kind: 1,
    startNs: `${startMs}000000`,
    endNs: `${startMs + 5}000000`,
    startMs,
    endMs: startMs + 5,
    statusCode: 0,
    serviceName: 'inventory-agent',
    taskId: 'task-1',
    chain: null,
    agentId: 'spiffe://co.example/agent/inventory/i-1',
    agentName: 'inventory-agent',
    operation: 'execute_tool',
    toolName: 'ec2.DescribeInstances',
    scopesUsed: ['ec2:DescribeInstances'],
    resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*',
    attributes: {},
    ...over,
  };
}
