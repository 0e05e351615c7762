/**
 * OPA as the policy stage's engine: the compiled policy is pushed to OPA as
 * data (at start and on every reload), and every decision is asked of OPA.
 * A decision counts only when OPA made it under the policy in force: until
 * the push succeeded, or when OPA answers under another revision (it
 * restarted and lost its data, or someone else loaded other data), the answer
 * is a deny with `policy.engine.unavailable` and the policy is pushed again
 * (at most once per `retryMs`). Fail closed: nothing is allowed that the
 * policy in force did not allow.
 */
import type { CompiledPolicy } from './compile.js';
import { unavailable, type OpaPolicyClient } from './opa-client.js';
import type { PolicyEvaluator } from './policy-engine.js';
import { ENGINE_UNAVAILABLE, type ActionPolicyInput, type ChainPolicyInput, type PolicyDecision } from './types.js';

export type PushEvent = { ok: true; revision: string } | { ok: false; revision: string; error: string };

export interface OpaEngineOptions {
  /** Least time between two pushes after a failure, ms (default 1,000). */
  retryMs?: number;
  /** After every push attempt (for logs and metrics). */
  onPush?: (e: PushEvent) => void;
}

export class OpaEngine implements PolicyEvaluator {
  /** The newest policy given (what should be in force). */
  private target: CompiledPolicy;
  /** The policy OPA last accepted from us: decisions are made under it; undefined when OPA may hold none. */
  private inForce: CompiledPolicy | undefined;
  private pushing: Promise<boolean> | undefined;
  private lastAttempt = -Infinity;
  private readonly inflight = new Map<string, Promise<PolicyDecision>>();

  constructor(
    readonly client: OpaPolicyClient,
    policy: CompiledPolicy,
    private readonly opts: OpaEngineOptions = {},
  ) {
    this.target = policy;
  }

  /** The policy OPA decides under, or the one being pushed when OPA holds none. */
  get policy(): CompiledPolicy {
    return this.inForce ?? this.target;
  }

  /** Whether OPA holds the newest policy. */
  get ready(): boolean {
    return this.inForce === this.target;
  }

  /**
   * Push a policy to OPA (at start, on every reload). Until OPA took it, the
   * previous policy stays in force, as a rejected reload keeps the last good
   * policy. Resolves to whether OPA took it; never rejects.
   */
  use(policy: CompiledPolicy): Promise<boolean> {
    this.target = policy;
    return this.push(true);
  }

  private push(now = false): Promise<boolean> {
    if (this.pushing) return this.pushing.then(() => (this.ready ? true : this.push(now)));
    if (!now && Date.now() - this.lastAttempt < (this.opts.retryMs ?? 1000)) return Promise.resolve(false);
    this.lastAttempt = Date.now();
    const sent = this.target;
    const revision = sent.data.revision;
    this.pushing = this.client.putPolicy(sent).then(
      () => {
        this.inForce = sent;
        this.report({ ok: true, revision });
        return true;
      },
      (e: unknown) => {
        this.report({ ok: false, revision, error: (e as Error)?.message ?? String(e) });
        return false;
      },
    ).finally(() => (this.pushing = undefined));
    // A reload during the push sends the newer policy right after.
    return this.pushing.then((ok) => (ok && this.target !== sent ? this.push(true) : ok && this.ready));
  }

  private report(e: PushEvent): void {
    try {
      this.opts.onPush?.(e);
    } catch {
      // A listener's failure must not break decisions.
    }
  }

  evaluateChain(input: ChainPolicyInput): Promise<PolicyDecision> {
    return this.ask(() => this.client.evaluateChain(input));
  }

  evaluateAction(input: ActionPolicyInput): Promise<PolicyDecision> {
    const asked = timeless(input);
    let key: string;
    try {
      key = JSON.stringify(asked);
    } catch {
      return this.ask(() => this.client.evaluateAction(asked));
    }
    // Spans of one chain arrive together: one question in flight answers them all.
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.ask(() => this.client.evaluateAction(asked)).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async ask(question: () => Promise<PolicyDecision>): Promise<PolicyDecision> {
    const policy = this.inForce;
    if (policy === undefined) {
      void this.push();
      return unavailable(`OPA does not hold the policy (revision ${this.target.data.revision.slice(0, 12)}) yet`);
    }
    if (policy !== this.target) void this.push();
    const d = await question();
    if (d.result === 'deny' && d.rules.includes(ENGINE_UNAVAILABLE)) {
      // OPA may have restarted without its data: push again (throttled) before trusting it.
      this.forget(policy);
      return d;
    }
    if (d.revision !== policy.data.revision) {
      this.forget(policy);
      return unavailable(`OPA answered under policy revision ${JSON.stringify(d.revision.slice(0, 12))}, not ${policy.data.revision.slice(0, 12)}`);
    }
    return d;
  }

  private forget(policy: CompiledPolicy): void {
    if (this.inForce === policy) this.inForce = undefined;
    void this.push();
  }
}

/**
 * The action's time matters to a decision only through approvals (policy.md
 * §9: an approval must be valid at the action's time). Without approvals it
 * is set to 0, so every action of a chain by one agent with one scope list is
 * one question and the TTL cache answers the rest (OPA costs milliseconds per
 * decision). A rule that reads the action's time must end this.
 */
function timeless(input: ActionPolicyInput): ActionPolicyInput {
  const a = input?.action;
  if (!Array.isArray(input?.approvals) || input.approvals.length > 0 || typeof a !== 'object' || a === null || !Number.isFinite(a.atMs)) return input;
  return { ...input, action: { ...a, atMs: 0 } };
}
