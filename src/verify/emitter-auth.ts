/**
 * Emitter authentication (schemas/delegation-token.md §4.5): who sent a span,
 * as proven by the request that carried it, against the agent the span says
 * it is. A chain proves who authorized an action; only this proves the span
 * came from that agent. Pure, except the stage glue.
 */
import type { AgentSpan } from '../model/span.js';
import type { Reason } from '../model/verdict.js';
import type { SpanBatch, Stage } from '../pipeline/stage.js';
import { isTrustDomainName, trustDomainOf } from './spiffe.js';

/**
 * What a trust domain requires of the request carrying its agents' spans:
 * nothing, an mTLS X.509-SVID or a JWT-SVID, or an mTLS X.509-SVID only.
 */
export const EMITTER_REQUIREMENTS = ['none', 'either', 'mtls'] as const;
export type EmitterRequirement = (typeof EMITTER_REQUIREMENTS)[number];

export interface EmitterAuthPolicy {
  /** For agents of a domain not listed, and spans whose agent is not a SPIFFE ID. */
  default: EmitterRequirement;
  domains: ReadonlyMap<string, EmitterRequirement>;
}

export const OPEN_EMITTER_POLICY: EmitterAuthPolicy = Object.freeze({ default: 'none', domains: new Map() });

/**
 * Parses `default=none,acme.example=mtls` (CHAINSIGHT_EMITTER_AUTH). Throws
 * an Error naming every bad entry.
 */
export function parseEmitterAuthPolicy(text: string): EmitterAuthPolicy {
  const problems: string[] = [];
  const domains = new Map<string, EmitterRequirement>();
  let def: EmitterRequirement | undefined;
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = eq === -1 ? '' : item.slice(0, eq).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1).trim();
    if (!(EMITTER_REQUIREMENTS as readonly string[]).includes(value)) {
      problems.push(`${JSON.stringify(item)}: expected <trust domain or default>=${EMITTER_REQUIREMENTS.join('|')}`);
      continue;
    }
    const req = value as EmitterRequirement;
    if (name === 'default') {
      if (def !== undefined) problems.push('default is given twice');
      def = req;
    } else if (!isTrustDomainName(name)) {
      problems.push(`${JSON.stringify(name)} is not a trust domain name`);
    } else if (domains.has(name)) {
      problems.push(`${name} is given twice`);
    } else {
      domains.set(name, req);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { default: def ?? 'none', domains };
}

/** The requirement for the domain of the agent a span claims to be. */
export function requirementFor(span: AgentSpan, policy: EmitterAuthPolicy): EmitterRequirement {
  const td = trustDomainOf(span.agentId);
  return (td === undefined ? undefined : policy.domains.get(td)) ?? policy.default;
}

/** Whether any domain (or the default) requires a credential: the receiver then must be able to take one. */
export function requiresAuthentication(policy: EmitterAuthPolicy): boolean {
  return policy.default !== 'none' || [...policy.domains.values()].some((r) => r !== 'none');
}

/**
 * The span's emitter reason, if any. An authenticated sender must be the
 * agent the span names, whatever the policy (a proven identity that
 * disagrees is evidence, never noise); a missing or weaker credential fails
 * only where the agent's domain requires one. Fails closed: a span that
 * names no agent is judged by the default.
 */
export function emitterReason(span: AgentSpan, policy: EmitterAuthPolicy): Reason | undefined {
  // A credential that was presented and failed is never "no credential": whatever the policy, it fails.
  if (span.peerError !== undefined) return { code: 'agent.unauthenticated', message: `the sender's credential does not verify: ${span.peerError}` };
  const peer = span.peer;
  if (peer !== undefined && peer.id !== span.agentId) {
    const claimed = span.agentId === '' ? 'no agent' : span.agentId;
    return { code: 'agent.not_sender', message: `sent by ${peer.id} (proven by ${peer.method === 'mtls' ? 'mTLS X.509-SVID' : 'JWT-SVID'}), but the span claims ${claimed}` };
  }
  const required = requirementFor(span, policy);
  if (required === 'none') return undefined;
  if (peer === undefined) {
    return { code: 'agent.unauthenticated', message: `${describeDomain(span)} requires ${required === 'mtls' ? 'an mTLS X.509-SVID' : 'an mTLS X.509-SVID or a JWT-SVID'} from the sender; the span came with none` };
  }
  if (required === 'mtls' && peer.method !== 'mtls') {
    return { code: 'agent.unauthenticated', message: `${describeDomain(span)} requires an mTLS X.509-SVID; the sender proved itself with a ${peer.method === 'jwt-svid' ? 'JWT-SVID' : peer.method} only` };
  }
  return undefined;
}

function describeDomain(span: AgentSpan): string {
  const td = trustDomainOf(span.agentId);
  return td === undefined ? 'the default emitter policy' : `trust domain ${td}`;
}

/** The check as a processor stage: a reason per span whose sender does not fit it. */
export class EmitterAuthStage implements Stage {
  readonly name = 'emitter-auth';
  constructor(private readonly policy: EmitterAuthPolicy) {}

  process(batch: SpanBatch): void {
    const { spans } = batch;
    for (let i = 0; i < spans.length; i++) {
      const r = emitterReason(spans[i]!, this.policy);
      if (r !== undefined) batch.addReason(i, r);
    }
  }
}
