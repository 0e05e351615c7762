/**
 * What the automated response does about one alert change: nothing, skip
 * (the alert qualifies but its evidence does not name one culprit: the
 * response fails closed rather than guess), or revoke one link or agent.
 */
import { severityRank } from '../../detect/alert.js';
import type { AlertChange } from '../delivery/change.js';
import type { ResponseConfig, ResponseTarget } from './config.js';

/** Who the revocations and audit rows name as their author. */
export const RESPONSE_ACTOR = 'chainsight-response';

export type ResponseAction = 'revoke_link' | 'revoke_agent';

export type ResponsePlan =
  | { do: 'none' }
  | { do: 'skip'; action: ResponseAction; reason: string }
  | { do: 'revoke'; action: ResponseAction; kind: ResponseTarget; target: string; reason: string };

/** Evidence facts naming the culprit, by what is revoked, first found wins: a detector's own `link`/`agent`, or the integrity detectors' `jti` (link reuse) and `presenter` (a chain presented by another agent). */
const CULPRIT_FACTS: Record<ResponseTarget, string[]> = { link: ['link', 'jti'], agent: ['agent', 'presenter'] };

/** The one link or agent the evidence names; else the only entry of linkIds (links) or of the alert's agents. */
function culprit(c: AlertChange, kind: ResponseTarget): string | undefined {
  const { evidence, agents } = c.alert;
  for (const f of CULPRIT_FACTS[kind]) {
    const fact = evidence.facts[f];
    if (typeof fact === 'string' && fact !== '') return fact;
  }
  const list = kind === 'link' ? evidence.linkIds : agents;
  const distinct = [...new Set(list)];
  return distinct.length === 1 ? distinct[0] : undefined;
}

export function planResponse(c: AlertChange, config: ResponseConfig): ResponsePlan {
  if (!config.enabled || c.status !== 'firing') return { do: 'none' };
  const kind = config.actions[c.alert.kind];
  if (kind === undefined || severityRank(c.alert.severity) < severityRank(config.minSeverity)) return { do: 'none' };
  const action: ResponseAction = kind === 'link' ? 'revoke_link' : 'revoke_agent';
  const target = culprit(c, kind);
  if (target === undefined) return { do: 'skip', action, reason: `the evidence does not name exactly one ${kind}` };
  const reason = `alert ${c.id} (${c.alert.kind}, ${c.alert.severity}): ${c.alert.summary}`;
  // Revocation reasons are bounded and single-line (revoke/model.ts); the alert's summary is detector text, not trusted to be either.
  return { do: 'revoke', action, kind, target, reason: reason.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 1000) };
}
