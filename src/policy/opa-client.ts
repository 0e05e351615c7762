/**
 * The OPA engine option: decisions from a real OPA server through its REST
 * data API (`POST /v1/data/<path>` with `{"input": …}`), evaluating
 * policies/chainsight.rego over the compiled policy loaded as OPA data.
 * Answers are cached for a configured TTL (the seed: "cached with short TTLs,
 * minutes not hours"), keyed by the exact input. Any failure to get a
 * well-formed answer is a deny (`policy.engine.unavailable`): fail closed.
 */
import { LRUCache } from 'lru-cache';
import type { CompiledPolicy } from './compile.js';
import type { PolicyEvaluator } from './policy-engine.js';
import { ENGINE_UNAVAILABLE, type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision, type PolicyReason } from './types.js';

export interface OpaClientOptions {
  /** OPA's base URL, e.g. http://127.0.0.1:8181. */
  url: string;
  /** Decision path under /v1/data (default chainsight/policy/decision). */
  path?: string;
  /** Where the compiled policy lives in OPA's data (default chainsight/config). */
  dataPath?: string;
  /** How long a decision is reused, ms (default 60,000; 0 disables the cache). */
  ttlMs?: number;
  cacheSize?: number;
  /** Per-request timeout, ms (default 2,000). */
  timeoutMs?: number;
}

export interface OpaClientStats {
  requests: number;
  hits: number;
  failures: number;
}

interface RegoViolation {
  rule: string;
  link: number;
  msg: string;
}

/** An OPA answer as a PolicyDecision, or undefined when it is not one. */
export function decisionFromOpa(body: unknown): PolicyDecision | undefined {
  const r = (body as { result?: unknown } | null)?.result as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null) return undefined;
  const { result, rules, violations, policyVersion, revision } = r;
  if ((result !== 'allow' && result !== 'deny') || !Array.isArray(rules) || !Array.isArray(violations)) return undefined;
  const reasons: PolicyReason[] = [];
  for (const v of violations as RegoViolation[]) {
    if (typeof v?.rule !== 'string' || typeof v.link !== 'number') return undefined;
    const reason: PolicyReason = { code: `policy.${v.rule}`, rule: v.rule, message: typeof v.msg === 'string' ? v.msg : '' };
    if (v.link >= 0) reason.link = v.link;
    reasons.push(reason);
  }
  // The Rego file must never allow with violations; refuse such an answer.
  if ((result === 'allow') !== (reasons.length === 0)) return undefined;
  return {
    result,
    rules: (rules as unknown[]).filter((x): x is string => typeof x === 'string').sort(),
    reasons,
    policyVersion: typeof policyVersion === 'string' ? policyVersion : '',
    revision: typeof revision === 'string' ? revision : '',
  };
}

export class OpaPolicyClient implements PolicyEvaluator {
  readonly stats: OpaClientStats = { requests: 0, hits: 0, failures: 0 };
  private readonly base: string;
  private readonly path: string;
  private readonly dataPath: string;
  private readonly timeoutMs: number;
  private readonly cache: LRUCache<string, PolicyDecision> | undefined;

  constructor(opts: OpaClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.path = opts.path ?? 'chainsight/policy/decision';
    this.dataPath = opts.dataPath ?? 'chainsight/config';
    this.timeoutMs = opts.timeoutMs ?? 2000;
    const ttl = opts.ttlMs ?? 60_000;
    this.cache = ttl > 0 ? new LRUCache({ max: opts.cacheSize ?? 20_000, ttl }) : undefined;
  }

  /** Load a compiled policy into OPA's data and forget cached decisions. */
  async putPolicy(policy: CompiledPolicy): Promise<void> {
    const res = await fetch(`${this.base}/v1/data/${this.dataPath}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(policy.data),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status !== 204 && res.status !== 200) throw new Error(`OPA refused the policy data: HTTP ${res.status} ${await res.text()}`);
    this.cache?.clear();
  }

  evaluateChain(input: ChainPolicyInput): Promise<PolicyDecision> {
    return this.ask(input);
  }

  evaluateAction(input: ActionPolicyInput): Promise<PolicyDecision> {
    return this.ask(input);
  }

  private async ask(input: unknown): Promise<PolicyDecision> {
    let body: string;
    try {
      body = JSON.stringify({ input });
    } catch (e) {
      return unavailable(`input cannot be sent: ${(e as Error).message}`);
    }
    const hit = this.cache?.get(body);
    if (hit !== undefined) {
      this.stats.hits++;
      return hit;
    }
    this.stats.requests++;
    try {
      const res = await fetch(`${this.base}/v1/data/${this.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      const decision = decisionFromOpa(JSON.parse(text));
      if (decision === undefined) throw new Error('OPA answered without a well-formed decision (is the policy data loaded?)');
      this.cache?.set(body, decision);
      return decision;
    } catch (e) {
      this.stats.failures++;
      return unavailable((e as Error).message);
    }
  }
}

/** The fail-closed decision when OPA gives none (`policy.engine.unavailable`). */
export function unavailable(message: string): PolicyDecision {
  return {
    result: 'deny',
    rules: [ENGINE_UNAVAILABLE],
    reasons: [{ code: `policy.${ENGINE_UNAVAILABLE}`, rule: ENGINE_UNAVAILABLE, message: `OPA gave no decision: ${message}` }],
    policyVersion: '',
    revision: '',
  };
}
