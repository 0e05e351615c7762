/**
 * Test helper: a policy file for the keys of test/support/keys.ts (agents
 * `spiffe://co.com/agent/<name>` of types planner, inventory, scanner),
 * with a global depth rule; the caller appends its own sections.
 */
export function rulesFor(version: string, opts: { depthMax?: number } = {}): string {
  return `version: ${JSON.stringify(version)}
agentTypes:
  id: agent-type.known
  patterns:
    - path: /agent/{type}
  types: [planner, inventory, scanner]
depth:
  - id: depth.global
    max: ${opts.depthMax ?? 5}
`;
}
