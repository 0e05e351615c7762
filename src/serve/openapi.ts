import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, problemTypeUri, type ProblemKind } from './problem.js';
import { PAGE_LIMIT } from './pagination.js';
import type { Access, Tenancy } from './auth.js';
import { ALERT_KINDS, ALERT_STATES, SEVERITIES } from '../detect/alert.js';
import { REVOCATION_KINDS } from '../revoke/model.js';
import { BLAST_SUBJECTS } from '../revoke/blast-radius.js';

/**
 * The analyst API's contract, served at /openapi.json. Response schemas are
 * closed (no undocumented properties), so the test that validates every
 * route's real answers against them catches drift in either direction.
 * `x-chainsight-access` says the least role each operation needs and
 * `x-chainsight-tenancy` whose rows it answers with (`own`: the caller's
 * trust domains only; `every`: all of them, so only a token for every
 * tenant); `x-chainsight-list` names a list's array property. The
 * authorization test enumerates the operations from this document and checks
 * every one behaves as it says.
 */

const str = { type: 'string' } as const;
const strs = { type: 'array', items: str } as const;
const int = { type: 'integer', minimum: 0 } as const;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const closed = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: 'object', additionalProperties: false, required, properties });

/** An alert as every alert route answers it (schemas/alerts.md §5). */
const alertView = {
  id: { ...str, description: 'derived from kind, tenant, subject and window: every processor computes the same one' },
  kind: { type: 'string', enum: [...ALERT_KINDS], description: 'what was detected; each kind is specified in schemas/alerts.md §7' },
  severity: { type: 'string', enum: [...SEVERITIES], description: 'the highest severity of its triggers' },
  state: { type: 'string', enum: [...ALERT_STATES] },
  tenant: { ...str, description: 'the trust domain it belongs to' },
  subject: str, summary: str, taskId: str, human: str, agents: strs, chainHash: str, traceId: str,
  windowStart: { type: ['string', 'null'], description: 'start of the evaluation window; null when not windowed' },
  firstSeen: str, lastSeen: str,
  count: { ...int, description: 'distinct triggers (a redelivered trigger counts once)' },
  acknowledgedBy: { type: ['string', 'null'] }, acknowledgedAt: { type: ['string', 'null'] },
  resolvedBy: { type: ['string', 'null'] }, resolvedAt: { type: ['string', 'null'] },
  resolution: { type: ['string', 'null'], description: 'the note of the resolution' },
};

const schemas = {
  Problem: {
    ...closed({
      type: { type: 'string', enum: (Object.keys(PROBLEM_TYPES) as ProblemKind[]).map(problemTypeUri) },
      title: str,
      status: { type: 'integer', minimum: 400, maximum: 599 },
      detail: str,
      instance: str,
      errorId: { type: 'string', description: 'server errors (5xx) only: quote it to the operator, who finds the cause in the log under this id' },
    }, ['type', 'title', 'status', 'detail', 'instance']),
    description: 'RFC 9457 problem details',
  },
  Health: closed({ status: { const: 'ok' } }),
  AlertView: closed(alertView),
  AlertPage: closed({ alerts: { type: 'array', items: ref('AlertView') }, nextCursor: ref('NextCursor') }),
  AlertDetail: closed({
    ...alertView,
    evidence: closed({
      spanIds: { ...strs, description: 'actions of the most recent triggers (at most 50)' },
      linkIds: { ...strs, description: 'delegation links involved (at most 50)' },
      facts: { type: 'object', description: 'detector-specific facts of the most recent trigger' },
    }),
    history: { type: 'array', items: closed({ state: { type: 'string', enum: [...ALERT_STATES] }, actor: str, at: str, note: str }) },
  }),
  AlertNote: { ...closed({ note: { type: 'string', maxLength: 1024 } }, []), description: 'optional; the actor is the token\'s subject' },
  NextCursor: { type: ['string', 'null'], description: 'pass as `cursor` for the next page; null on the last page' },
  TaskSummary: closed({
    task_id: str, purpose: str, root_human: str,
    requested_at: { ...str, description: "when the human authorized the task (the root link's iat); the epoch when no chain says" },
    first_action: str, last_action: str,
    actions: int, agents: int, failed: { ...int, description: 'actions flagged (verdict failed)' },
    trust_domains: { ...strs, description: "trust domains of the agents that acted in the task (within the caller's)" },
  }),
  TaskPage: closed({ tasks: { type: 'array', items: ref('TaskSummary') }, nextCursor: ref('NextCursor') }),
  Action: closed({
    trace_id: str, span_id: str, parent_span_id: str, ts: str, end_ts: str, name: str, operation: str, agent_id: str,
    agent_name: str, tool_name: str, root_human: str, root_issued_at: str, purpose: str, delegator: str, chain_depth: int,
    chain_path: strs, scopes_granted: strs, scopes_used: strs, resource: str,
    verdict: { type: 'string', enum: ['verified', 'failed'] }, reasons: strs, reason_details: strs,
    chain_evidence: {
      type: 'string', enum: ['signed-links', 'sts-token', ''],
      description: "how the chain's hops are evidenced: each signed by its delegator, or one STS token-exchange token whose intermediate hops only the STS vouches for (weaker); '' without a chain",
    },
    peer_id: { ...str, description: "the sender's SPIFFE ID as proven by the request (mTLS X.509-SVID or JWT-SVID); empty when it proved none" },
  }),
  ActionPage: closed({ taskId: str, actions: { type: 'array', items: ref('Action') }, nextCursor: ref('NextCursor') }),
  Decision: closed({
    decision_id: str, ts: { ...str, description: "the action's start time" }, trace_id: str, span_id: str, agent_id: str,
    policy_version: str, revision: { ...str, description: 'content hash of the policy in force (the bundle revision)' },
    result: { type: 'string', enum: ['allow', 'deny'] },
    rules: { ...strs, description: 'ids of the rules that applied: under which rules it was allowed, or which ones it broke' },
    reasons: { type: 'array', items: closed({ code: str, link: { type: 'integer', minimum: 0 }, message: str }, ['code', 'message']) },
    link_hashes: { ...strs, description: "the chain's link hashes, root first (never the tokens)" },
    decided_at: str,
  }),
  DecisionPage: closed({ taskId: str, decisions: { type: 'array', items: ref('Decision') }, nextCursor: ref('NextCursor') }),
  OpaDecisionEvent: {
    ...closed({
      decision_id: str, path: str, input: {}, result: { type: 'object' }, timestamp: str,
      bundles: { type: 'object', additionalProperties: closed({ revision: str }) },
      labels: { type: 'object', additionalProperties: str },
    }),
    description: "OPA's decision-log event shape, so OPA tooling reads chainsight's decisions unchanged",
  },
  OpaDecisionPage: closed({ taskId: str, events: { type: 'array', items: ref('OpaDecisionEvent') }, nextCursor: ref('NextCursor') }),
  DecisionList: { oneOf: [ref('DecisionPage'), ref('OpaDecisionPage')] },
  OneDecision: { oneOf: [closed({ decision: ref('Decision') }), closed({ event: ref('OpaDecisionEvent') })] },
  QuarantinedRow: closed({
    received_at: { type: 'integer', description: 'when the store refused it, epoch ms' }, source: str, table_name: str,
    error_code: { ...str, description: "ClickHouse's error name, or a chainsight code such as STAGE_FAILED" }, error: str,
    trace_id: str, span_id: str, task_id: str, row: { ...str, description: 'the refused row as JSON' },
  }),
  QuarantinePage: closed({ quarantined: { type: 'array', items: ref('QuarantinedRow') }, nextCursor: ref('NextCursor') }),
  Delegation: closed({
    link_hash: str, jti: str, task_id: str, delegator: str, delegatee: str, delegator_kind: str, scopes: strs,
    issued_at: str, not_before: str, expires_at: str, depth: int, valid: { type: 'boolean' }, trust_domain: str,
  }),
  DelegationPage: closed({ agentId: str, delegations: { type: 'array', items: ref('Delegation') }, nextCursor: ref('NextCursor') }),
  ActionNode: closed({
    traceId: str, spanId: str, name: str, operation: str, tool: str, ts: str, resource: str, scopesUsed: strs,
    verdict: str, reasons: strs, details: strs, children: { type: 'array', items: ref('ActionNode') },
  }),
  AgentNode: closed({
    agentId: str, agentName: str, delegatedBy: str, scopesGranted: strs, actions: int, verified: int, failed: int,
    firstTs: str, lastTs: str, actionTree: { type: 'array', items: ref('ActionNode') }, delegates: { type: 'array', items: ref('AgentNode') },
  }),
  TaskTree: closed({
    taskId: str, purpose: str, rootHuman: str, requestedAt: str, total: int, verified: int, failed: int, agentCount: int,
    actionsByAgent: { type: 'object', additionalProperties: int },
    failuresByReason: { type: 'object', additionalProperties: int },
    agents: { type: 'array', items: ref('AgentNode') },
    unattributed: { type: 'array', items: ref('AgentNode') },
  }),
  GraphNode: closed({
    id: str, name: str, kind: { type: 'string', enum: ['human', 'agent'] },
    actions: { ...int, description: 'actions this agent performed (0 for humans)' }, failed: int,
  }),
  GraphEdge: closed({
    from: str, to: str,
    links: { ...int, description: 'delegation links recorded from `from` to `to`' },
    invalidLinks: { ...int, description: 'of those, links that failed verification (a structural reason points at them or a link before them)' },
    actions: { ...int, description: "actions of `to` under a chain naming `from` as the hop before it" },
    failedActions: int,
    tasks: { ...int, description: "distinct tasks (the larger of the links' and the actions' counts)" },
    invalid: { type: 'boolean', description: 'some link on this edge failed verification' },
    unexpected: { type: 'boolean', description: 'actions crossed this edge but no link grants it (an agent acted on a chain delegated to another), or detection raised a first-seen-edge alert (delegation.new_edge) on it' },
    marks: {
      type: 'array', items: { type: 'string', enum: ['link.invalid', 'action.flagged', 'edge.unexpected', 'edge.new'] },
      description: 'edge.unexpected: no link grants it; edge.new: a delegation.new_edge alert names it',
    },
  }),
  GraphPage: closed({
    nodes: { type: 'array', items: ref('GraphNode'), description: "the nodes this page's edges name" },
    edges: { type: 'array', items: ref('GraphEdge'), description: 'in (from, to) order' },
    nextCursor: ref('NextCursor'),
  }),
  EdgeTask: closed({ task_id: str, links: int, invalid: int, actions: int, failed: int }),
  EdgeTaskPage: closed({ delegator: str, delegatee: str, tasks: { type: 'array', items: ref('EdgeTask') }, nextCursor: ref('NextCursor') }),
  ScopeBucket: closed({
    start: { ...str, description: "the bucket's start (UTC)" }, actions: int, failed: int,
    granted: { ...strs, description: "scopes the agent's chains granted it in this bucket" },
    used: { type: 'array', items: closed({ scope: str, uses: int, covered: { type: 'boolean', description: "a granted scope covers it (directly, by pattern, or through the policy's implications)" } }) },
    unused: { ...strs, description: 'granted scopes that cover none of the scopes used in this bucket' },
    ungranted: { ...strs, description: 'used scopes no granted scope covers' },
  }),
  ScopeHistory: closed({ agentId: str, bucketSeconds: int, buckets: { type: 'array', items: ref('ScopeBucket') }, nextCursor: ref('NextCursor') }),
  ChainLink: closed({
    position: int, linkHash: str, jti: str, issuer: str, issuerKind: str, subject: str, scopes: strs,
    issuedAt: str, notBefore: str, expiresAt: str, trustDomain: str, kid: str, alg: str,
    status: {
      type: 'string', enum: ['verified', 'invalid', 'unrecorded'],
      description: 'verified: signature and structure checked; invalid: a structural reason points at it or a link before it; unrecorded: no row for it',
    },
    expiredAtAction: { type: 'boolean', description: 'the link had expired when the action started' },
  }),
  ActionChain: closed({
    taskId: str, spanId: str, traceId: str, ts: str, agentId: str, verdict: { type: 'string', enum: ['verified', 'failed'] },
    reasons: { type: 'array', items: closed({ code: str, detail: str }) },
    chainPath: { ...strs, description: 'the human, then each delegatee, as the chain presented them' },
    links: { type: 'array', items: ref('ChainLink'), description: 'root first; empty when the action carried no decodable chain' },
  }),
  Revocation: closed({
    id: str, kind: { type: 'string', enum: [...REVOCATION_KINDS] },
    target: { ...str, description: 'link hash or jti (link), principal (agent), or kid (key)' },
    reason: str, revokedBy: { ...str, description: "the token's subject (the body's value only when the API runs open)" },
    revokedAtMs: { ...int, description: 'spans starting at or after this time (epoch ms) under a covered chain fail' },
    expiresAtMs: { ...int, description: 'when nothing it covers can still verify (epoch ms); 0: never' },
  }),
  RevocationRequest: closed({
    kind: { type: 'string', enum: [...REVOCATION_KINDS] },
    target: { type: 'string', minLength: 1, maxLength: 512 },
    reason: { type: 'string', minLength: 1, maxLength: 1000 },
    revokedBy: { type: 'string', minLength: 1, maxLength: 256, description: 'replaced by the token subject when authenticated' },
    revokedAt: { type: ['string', 'integer'], description: 'optional earlier effective time (ISO-8601 or epoch ms), never in the future' },
  }, ['kind', 'target', 'reason', 'revokedBy']),
  Revoked: closed({ revocation: ref('Revocation') }),
  RevocationPage: closed({ revocations: { type: 'array', items: ref('Revocation') }, nextCursor: ref('NextCursor') }),
  BlastRadius: closed({
    subject: closed({ kind: { type: 'string', enum: [...BLAST_SUBJECTS] }, id: str }),
    links: { ...strs, description: 'for a link: the hashes the id named (itself, or the links with that jti)' },
    chains: { type: 'array', items: closed({ chainHash: str, taskId: str, path: strs, depth: int, actions: int }) },
    derivedLinks: { ...strs, description: 'links delegated from the subject, below it in those chains' },
    tasks: { type: 'array', items: closed({ taskId: str, actions: int, failed: int }) },
    actions: closed({ total: int, verified: int, failed: int, first: { type: ['string', 'null'] }, last: { type: ['string', 'null'] } }),
    byAgent: { type: 'array', items: closed({ agent: str, actions: int, failed: int, scopes: { type: 'array', items: closed({ scope: str, actions: int }) } }) },
    byScope: { type: 'array', items: closed({ scope: str, actions: int }) },
    truncated: { type: 'boolean', description: 'a list was cut at 1000 entries' },
  }),
} as const;

const problem = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('Problem') } } });
const json = (description: string, schema: string) => ({ description, content: { 'application/json': { schema: ref(schema) } } });

const responses = {
  BadRequest: problem('a malformed parameter or cursor'),
  Unauthenticated: problem('no bearer token, or one that does not verify; `WWW-Authenticate` says why'),
  Forbidden: problem("the token's role does not allow this route"),
  NotFound: problem('nothing the caller may see is recorded under this id'),
  Conflict: problem('the request does not apply to the current state'),
  Internal: problem('a server bug; `errorId` names the log entry'),
  Unavailable: problem('the store or the identity provider cannot be reached; retry after `Retry-After` seconds'),
};
const r = (name: keyof typeof responses) => ({ $ref: `#/components/responses/${name}` });

/** The errors every guarded operation may answer. */
function guardedErrors(...extra: Array<[string, keyof typeof responses]>) {
  return { '400': r('BadRequest'), '401': r('Unauthenticated'), '403': r('Forbidden'), ...Object.fromEntries(extra.map(([s, n]) => [s, r(n)])), '500': r('Internal'), '503': r('Unavailable') };
}

const param = (name: string, where: 'query' | 'path', description: string, schema: object = str) =>
  ({ name, in: where, required: where === 'path', description, schema });
const cursor = param('cursor', 'query', 'nextCursor of the previous page (opaque; valid only with the same filters)');
const limit = (fallback: number) => param('limit', 'query', 'page size', { type: 'integer', minimum: 1, maximum: PAGE_LIMIT.max, default: fallback });
const taskId = param('taskId', 'path', 'task id (gen_ai.conversation.id / chainsight.task.id), 1 to 512 characters');

const alertId = param('alertId', 'path', 'alert id, 32 hex characters');
interface OpExtra {
  /** Default `own` for guarded routes. */
  tenancy?: Tenancy;
  /** A list: the property holding its items (paged by `cursor`, ended by `nextCursor: null`). */
  list?: string;
  requestBody?: object;
  /** The success status; 200 unless it creates. */
  status?: '200' | '201';
}

function op(access: Access, summary: string, ok: object, parameters: object[] = [], errorsFor: object = guardedErrors(), extra: OpExtra = {}) {
  return {
    summary,
    'x-chainsight-access': access,
    ...(access === 'open' ? {} : { 'x-chainsight-tenancy': extra.tenancy ?? 'own' }),
    ...(extra.list ? { 'x-chainsight-list': extra.list } : {}),
    security: access === 'open' ? [] : [{ bearer: [] }],
    parameters,
    ...(extra.requestBody ? { requestBody: extra.requestBody } : {}),
    responses: { [extra.status ?? '200']: ok, ...(access === 'open' ? {} : errorsFor) },
  };
}

const list = (name: string): OpExtra => ({ list: name });
const acrossTenants: OpExtra = { tenancy: 'every' };
const noteBody = { required: false, content: { 'application/json': { schema: ref('AlertNote'), example: { note: 'triaged: expected change window' } } } };

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'chainsight analyst API',
    version: '1',
    description:
      'Verified delegation chains and per-task action trees. Guarded routes take an OIDC bearer JWT whose tenants claim lists the trust domains the caller sees; ' +
      'rows of other trust domains are invisible (lists leave them out, single resources answer 404). Operations marked `x-chainsight-tenancy: every` answer or act ' +
      'across trust domains and need a token whose tenants claim is `*`. Lists are paginated by opaque cursors.',
  },
  paths: {
    '/healthz': { get: op('open', 'liveness', json('alive', 'Health')) },
    '/openapi.json': { get: op('open', 'this document', { description: 'the OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } } }) },
    '/api/tasks': {
      get: op('viewer', "tasks the caller's trust domains took part in, newest first; counts cover only the caller's trust domains' actions", json('a page of tasks', 'TaskPage'), [
        param('from', 'query', 'first action at or after (ISO-8601 or epoch ms)'),
        param('to', 'query', 'first action before (ISO-8601 or epoch ms)'),
        param('human', 'query', 'the root human (root link issuer)'),
        param('agent', 'query', 'an agent SPIFFE ID taking part'),
        param('verdict', 'query', 'verified: no action flagged; failed: at least one', { type: 'string', enum: ['verified', 'failed'] }),
        param('alert', 'query', "tasks an alert of the caller's tenants was raised on: any kind, or this kind", { type: 'string', enum: ['any', ...ALERT_KINDS] }),
        limit(PAGE_LIMIT.default), cursor,
      ], guardedErrors(), list('tasks')),
    },
    '/api/tasks/{taskId}/tree': {
      get: op('viewer', "one task's action tree, built from the caller's trust domains' actions", {
        description: 'the tree (JSON), or its terminal rendering with format=text',
        content: { 'application/json': { schema: ref('TaskTree') }, 'text/plain': { schema: str } },
      }, [
        taskId,
        param('format', 'query', 'text for the terminal rendering', { type: 'string', enum: ['json', 'text'] }),
        param('actions', 'query', 'with format=text: list every action', { type: 'string', enum: ['true', 'false'] }),
      ], guardedErrors(['404', 'NotFound'])),
    },
    '/api/tasks/{taskId}/actions': {
      get: op('viewer', "a task's actions whose agent is in the caller's trust domains, once each, in (ts, span_id) order", json('a page of actions', 'ActionPage'), [taskId, limit(PAGE_LIMIT.max), cursor], guardedErrors(), list('actions')),
    },
    '/api/tasks/{taskId}/decisions': {
      get: op('viewer', "the policy engine's decision on each of a task's actions whose agent is in the caller's trust domains (the newest per action), in (ts, span_id) order; `format=opa` gives OPA decision-log events", {
        description: 'a page of decisions, or of OPA decision-log events',
        content: { 'application/json': { schema: ref('DecisionList') } },
      }, [taskId, param('format', 'query', 'chainsight (default) or opa', { type: 'string', enum: ['chainsight', 'opa'] }), limit(PAGE_LIMIT.default), cursor], guardedErrors(), list('decisions')),
    },
    '/api/tasks/{taskId}/actions/{spanId}/decision': {
      get: op('viewer', 'under which rules one action was allowed, or which it broke: its newest policy decision; 404 when no policy judged it', json('the decision', 'OneDecision'), [
        taskId, param('spanId', 'path', 'the action\'s span id'), param('format', 'query', 'chainsight (default) or opa', { type: 'string', enum: ['chainsight', 'opa'] }),
      ], guardedErrors(['404', 'NotFound'])),
    },
    '/api/agents/{agentId}/delegations': {
      get: op('viewer', "links an agent issued or received, of the caller's trust domains, newest first", json('a page of links', 'DelegationPage'), [
        param('agentId', 'path', 'agent SPIFFE ID, URL-encoded'), limit(500), cursor,
      ], guardedErrors(), list('delegations')),
    },
    '/api/graph': {
      get: op('viewer', "the delegation graph of the caller's trust domains: agents and humans as nodes, delegation edges with link, action and task counts; invalid and unexpected edges marked", json('a page of edges and the nodes they name', 'GraphPage'), [
        param('from', 'query', 'actions at or after, and links still in force then (ISO-8601 or epoch ms)'),
        param('to', 'query', 'actions before, and links issued before (ISO-8601 or epoch ms)'),
        limit(PAGE_LIMIT.max), cursor,
      ], guardedErrors(), list('edges')),
    },
    '/api/graph/edges/{delegator}/{delegatee}/tasks': {
      get: op('viewer', 'the tasks that used one delegation edge (a link, or actions under it), in task id order', json('a page of tasks', 'EdgeTaskPage'), [
        param('delegator', 'path', 'the delegating human or agent SPIFFE ID, URL-encoded'),
        param('delegatee', 'path', 'the delegatee agent SPIFFE ID, URL-encoded'),
        param('from', 'query', 'as for /api/graph'), param('to', 'query', 'as for /api/graph'),
        limit(PAGE_LIMIT.default), cursor,
      ], guardedErrors(), list('tasks')),
    },
    '/api/agents/{agentId}/scopes': {
      get: op('viewer', 'an agent\'s granted against used scopes over time, per bucket, oldest first', json('a page of buckets', 'ScopeHistory'), [
        param('agentId', 'path', 'agent SPIFFE ID, URL-encoded'),
        param('from', 'query', 'actions at or after (ISO-8601 or epoch ms)'), param('to', 'query', 'actions before (ISO-8601 or epoch ms)'),
        param('bucket', 'query', 'bucket size in seconds', { type: 'integer', minimum: 60, maximum: 604800, default: 3600 }),
        limit(PAGE_LIMIT.default), cursor,
      ], guardedErrors(), list('buckets')),
    },
    '/api/tasks/{taskId}/actions/{spanId}/chain': {
      get: op('viewer', "one action's verdict and its chain link by link: issuer, scope, expiry and verification status", json('the chain', 'ActionChain'), [
        taskId, param('spanId', 'path', 'the action\'s span id'),
      ], guardedErrors(['404', 'NotFound'])),
    },
    '/api/quarantine': {
      get: op('admin', 'rows the store refused for good (OTLP/HTTP path) with their error, newest first (raw input of any tenant: an admin for every tenant only)', json('a page of quarantined rows', 'QuarantinePage'), [
        param('task', 'query', 'task id'),
        param('trace', 'query', 'trace id'),
        param('from', 'query', 'quarantined at or after (ISO-8601 or epoch ms)'),
        param('to', 'query', 'quarantined before (ISO-8601 or epoch ms)'),
        limit(100), cursor,
      ], guardedErrors(), { ...acrossTenants, ...list('quarantined') }),
    },
    '/api/revocations': {
      post: op('responder', 'revoke a link (by hash or jti), an agent or a signing key: spans from then on under a covered chain fail, in every tenant (so: a token for every tenant)', {
        description: 'recorded', content: { 'application/json': { schema: ref('Revoked') } },
      }, [], guardedErrors(), {
        ...acrossTenants, status: '201',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('RevocationRequest'), example: { kind: 'agent', target: 'spiffe://co.example/agent/rogue/r-1', reason: 'exfiltration', revokedBy: 'ignored@co.example' } } },
        },
      }),
      get: op('responder', 'revocations, newest first (revokedAtMs DESC, id)', json('a page of revocations', 'RevocationPage'), [
        param('kind', 'query', 'only this kind', { type: 'string', enum: [...REVOCATION_KINDS] }),
        param('target', 'query', 'only this target'),
        limit(PAGE_LIMIT.default), cursor,
      ], guardedErrors(), { ...acrossTenants, ...list('revocations') }),
    },
    '/api/blast-radius/{kind}/{id}': {
      get: op('admin', 'every chain derived from a link, an agent or a human and every action under them, across tasks and trust domains, with counts per agent and scope',
        json('the blast radius (empty lists when nothing is recorded)', 'BlastRadius'), [
          param('kind', 'path', 'what the id names', { type: 'string', enum: [...BLAST_SUBJECTS] }),
          param('id', 'path', 'link hash or jti, agent SPIFFE ID, or human; URL-encoded, 1 to 512 characters'),
        ], guardedErrors(), acrossTenants),
    },
    '/api/alerts': {
      get: op('viewer', "alerts of the caller's trust domains, most recently seen first (schemas/alerts.md)", json('a page of alerts', 'AlertPage'), [
        param('state', 'query', 'open, acknowledged or resolved', { type: 'string', enum: [...ALERT_STATES] }),
        param('kind', 'query', 'one kind of alert', { type: 'string', enum: [...ALERT_KINDS] }),
        param('severity', 'query', 'minimum severity', { type: 'string', enum: [...SEVERITIES] }),
        param('agent', 'query', 'an agent SPIFFE ID involved in any trigger'),
        param('human', 'query', 'the root human of any trigger'),
        param('task', 'query', 'a task of any trigger'),
        param('since', 'query', 'last seen at or after (ISO-8601 or epoch ms)'),
        param('until', 'query', 'first seen before (ISO-8601 or epoch ms)'),
        limit(PAGE_LIMIT.default), cursor,
      ], guardedErrors(), list('alerts')),
    },
    '/api/alerts/{alertId}': {
      get: op('viewer', 'one alert with its evidence and history', json('the alert', 'AlertDetail'), [alertId], guardedErrors(['404', 'NotFound'])),
    },
    '/api/alerts/{alertId}/acknowledge': {
      post: op('responder', 'acknowledge an alert (a no-op when it already is; 409 when resolved)', json('the alert', 'AlertView'), [alertId], guardedErrors(['404', 'NotFound'], ['409', 'Conflict']), { requestBody: noteBody }),
    },
    '/api/alerts/{alertId}/resolve': {
      post: op('responder', 'resolve an alert (a no-op when it already is); it opens again if it triggers again', json('the alert', 'AlertView'), [alertId], guardedErrors(['404', 'NotFound']), { requestBody: noteBody }),
    },
    '/metrics': {
      get: op('admin', 'Prometheus metrics of this process (every tenant: an admin for every tenant, or the static scrape secret of CHAINSIGHT_METRICS_TOKEN_FILE as bearer)',
        { description: 'Prometheus text exposition', content: { 'text/plain': { schema: str } } }, [], guardedErrors(), acrossTenants),
    },
  },
  components: {
    schemas,
    responses,
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'an access token from the configured OIDC issuer, for the configured audience' },
    },
  },
} as const;
