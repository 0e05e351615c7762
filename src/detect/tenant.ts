import { trustDomainOf } from '../verify/spiffe.js';

/**
 * The tenant an alert about an agent belongs to: its SPIFFE ID's trust
 * domain; '' for an agent id that is not one, which only a viewer of every
 * tenant sees (fail closed, as the analyst queries do).
 */
export function tenantOfAgent(agentId: string): string {
  return trustDomainOf(agentId) ?? '';
}
