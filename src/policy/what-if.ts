/**
 * What-if: the stored decisions of a time range replayed against a draft
 * policy, before it is deployed. Pure: rows in (as the decision log holds
 * them), a report out. Each row's logged input (`{"action", "chain"}`, token
 * hashes only) is judged again by the built-in engine under the draft and
 * compared with the stored result.
 *
 * A span newly denied by several rules counts once in the totals and once
 * under each rule; the examples keep the first few per rule, in row order.
 */
import type { CompiledPolicy } from './compile.js';
import { PolicyEngine } from './policy-engine.js';
import type { ActionPolicyInput, ChainPolicyInput, PolicyDecision, PolicyReason } from './types.js';

/** One stored decision, the newest for its span (what the store reader returns). */
export interface StoredDecision {
  task_id: string;
  trace_id: string;
  span_id: string;
  /** The span's start, ClickHouse DateTime64 text. */
  ts: string;
  result: string;
  reason_codes: string[];
  /** The stored reasons' messages, aligned with `reason_codes`. */
  reason_details: string[];
  revision: string;
  policy_version: string;
  /** `{"action":{agent,scopes,atMs},"chain":{depth,links,approvals}}`. */
  input: string;
}

export interface WhatIfExample {
  taskId: string;
  traceId: string;
  spanId: string;
  ts: string;
  agent: string;
  rule: string;
  link?: number;
  /** Why the draft denies (newly denied), or why the stored decision denied (newly allowed). */
  message: string;
}

export interface RuleChange {
  rule: string;
  /** Spans this rule newly denies (or no longer denies). */
  count: number;
  examples: WhatIfExample[];
}

export interface WhatIfReport {
  draft: { version: string; revision: string };
  totals: {
    /** Stored decisions judged again under the draft. */
    replayed: number;
    /** Allowed before and under the draft. */
    stillAllowed: number;
    /** Denied before and under the draft (`reasonsChanged` of them for other rules). */
    stillDenied: number;
    reasonsChanged: number;
    newlyDenied: number;
    newlyAllowed: number;
    /** Stored decisions whose logged input cannot be read back: not replayed. */
    unreadable: number;
  };
  /** Newly denied spans, by the draft rule that denies them. */
  newlyDenied: RuleChange[];
  /** Newly allowed spans, by the stored rule that denied them. */
  newlyAllowed: RuleChange[];
  /** The policies the stored decisions were made under, by revision (`''`: no engine answered). */
  storedPolicies: Array<{ version: string; revision: string; decisions: number }>;
}

export interface WhatIfOptions {
  /** Examples kept per rule (default 3). */
  examplesPerRule?: number;
}

/** The engine input a decision was logged with, or undefined when the text is not one. */
export function loggedInput(text: string): ActionPolicyInput | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { action, chain } = v as { action?: unknown; chain?: unknown };
  if (typeof action !== 'object' || action === null || typeof chain !== 'object' || chain === null) return undefined;
  // The engine re-checks the shape (and denies what it does not understand); this only reassembles it.
  return { ...(chain as ChainPolicyInput), action: action as ActionPolicyInput['action'] };
}

class ByRule {
  private readonly rules = new Map<string, RuleChange>();
  constructor(private readonly keep: number) {}

  add(row: StoredDecision, agent: string, rule: string, link: number | undefined, message: string): void {
    let c = this.rules.get(rule);
    if (c === undefined) this.rules.set(rule, (c = { rule, count: 0, examples: [] }));
    c.count++;
    if (c.examples.length < this.keep) {
      c.examples.push({ taskId: row.task_id, traceId: row.trace_id, spanId: row.span_id, ts: row.ts, agent, rule, ...(link !== undefined ? { link } : {}), message });
    }
  }

  /** Most affected rule first, then by id. */
  list(): RuleChange[] {
    return [...this.rules.values()].sort((a, b) => b.count - a.count || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  }
}

/** The distinct rules of a decision's reasons, first reason of each kept (a span counts once per rule). */
function firstPerRule(reasons: readonly PolicyReason[]): PolicyReason[] {
  const seen = new Set<string>();
  return reasons.filter((r) => !seen.has(r.rule) && (seen.add(r.rule), true));
}

/** The rule id of a stored reason code (`policy.<rule id>`). */
function ruleOf(code: string): string {
  return code.startsWith('policy.') ? code.slice('policy.'.length) : code;
}

export function whatIf(rows: Iterable<StoredDecision>, draft: CompiledPolicy, opts: WhatIfOptions = {}): WhatIfReport {
  const keep = opts.examplesPerRule ?? 3;
  // The engine caches chain judgements by link hashes: spans of one chain are judged once.
  const engine = new PolicyEngine(draft);
  const denied = new ByRule(keep);
  const allowed = new ByRule(keep);
  const stored = new Map<string, { version: string; revision: string; decisions: number }>();
  const totals: WhatIfReport['totals'] = { replayed: 0, stillAllowed: 0, stillDenied: 0, reasonsChanged: 0, newlyDenied: 0, newlyAllowed: 0, unreadable: 0 };
  for (const row of rows) {
    const input = loggedInput(row.input);
    if (input === undefined) {
      totals.unreadable++;
      continue;
    }
    totals.replayed++;
    const key = row.revision + '\0' + row.policy_version;
    const s = stored.get(key);
    if (s === undefined) stored.set(key, { version: row.policy_version, revision: row.revision, decisions: 1 });
    else s.decisions++;
    const d: PolicyDecision = engine.evaluateAction(input);
    const agent = typeof input.action?.agent === 'string' ? input.action.agent : '';
    const wasDenied = row.result !== 'allow';
    if (d.result === 'allow') {
      if (!wasDenied) totals.stillAllowed++;
      else {
        totals.newlyAllowed++;
        const seen = new Set<string>();
        row.reason_codes.forEach((code, i) => {
          if (seen.has(code)) return;
          seen.add(code);
          allowed.add(row, agent, ruleOf(code), undefined, row.reason_details[i] ?? `the stored decision denied by ${code}`);
        });
      }
    } else if (wasDenied) {
      totals.stillDenied++;
      const before = [...new Set(row.reason_codes)].sort().join();
      const after = [...new Set(d.reasons.map((r) => r.code))].sort().join();
      if (before !== after) totals.reasonsChanged++;
    } else {
      totals.newlyDenied++;
      for (const r of firstPerRule(d.reasons)) denied.add(row, agent, r.rule, r.link, r.message);
    }
  }
  return {
    draft: { version: draft.data.version, revision: draft.data.revision },
    totals,
    newlyDenied: denied.list(),
    newlyAllowed: allowed.list(),
    storedPolicies: [...stored.values()].sort((a, b) => b.decisions - a.decisions),
  };
}
