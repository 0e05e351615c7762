import { buildTaskTree } from '../src/serve/tree.js';
import type { ActionView } from '../src/store/queries.js';
const P = ['alice@x', 'spiffe://bench.example/agent/planning/p-0', 'spiffe://bench.example/agent/inventory/w-0', 'spiffe://bench.example/agent/inventory/w-0/runner'];
const actions: ActionView[] = [];
for (let k = 0; k < 5000; k++) actions.push({ trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: k.toString(16).padStart(16, '0'), parent_span_id: k % 7 ? (k - 1).toString(16).padStart(16, '0') : '', ts: new Date(1.7e12 + k).toISOString().replace('Z', '000000Z'), end_ts: new Date(1.7e12 + k + 2).toISOString(), name: 'execute_tool x', operation: 'execute_tool', agent_id: P[3]!, agent_name: 'runner', tool_name: 'x', root_human: 'alice@x', root_issued_at: '2023-11-14T22:13:20.000Z', purpose: 'b', delegator: P[2]!, chain_depth: 3, chain_path: P, scopes_granted: ['ec2:Describe*'], scopes_used: ['ec2:DescribeInstances'], resource: 'arn', verdict: 'verified', reasons: [], reason_details: [] });
for (let r = 0; r < 10; r++) { const s = performance.now(); buildTaskTree("t", actions); console.log((performance.now() - s).toFixed(1)); }
