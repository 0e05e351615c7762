import { decodeJwt } from 'jose';
import type { AgentSpan } from '../src/model/span.js';

/** A decoded span presenting `chain`, acting as its last delegatee inside its grant. */
export function makeSpanFor(chain: string[]): AgentSpan {
  const last = decodeJwt(chain[chain.length - 1]!) as { sub: string; task: string; iat: number };
  const ms = last.iat * 1000 + 60_000;
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '', name: 'execute_tool aws.ec2.DescribeInstances',
    kind: 3, startNs: `${ms}000000`, endNs: `${ms + 3}000000`, startMs: ms, endMs: ms + 3, statusCode: 0, serviceName: 'bench',
    taskId: last.task, chain, agentId: last.sub, agentName: 'runner', operation: 'execute_tool', toolName: 'aws.ec2.DescribeInstances',
    scopesUsed: ['ec2:DescribeInstances'], resource: 'arn:aws:ec2:eu-west-1:111122223333:instance/i-1', attributes: {},
  };
}
