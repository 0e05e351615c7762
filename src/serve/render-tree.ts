import type { ActionNode, AgentNode, TaskTree } from './tree.js';

export interface RenderOptions {
  /** List every action under its agent, not only the counts. */
  actions?: boolean;
  /** How many flagged actions to list at the end. */
  maxFlagged?: number;
}

function duration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = s / 60;
  if (m < 60) return `${Math.round(m)} minutes`;
  return `${(m / 60).toFixed(1)} hours`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function agentLine(n: AgentNode): string {
  const over = n.actions > 0 ? duration(n.firstTs, n.lastTs) : '';
  const flagged = n.failed > 0 ? `, ${n.failed} flagged` : '';
  return `${n.agentName}: ${plural(n.actions, 'action')}${over ? ` over ${over}` : ''}${flagged}`;
}

function actionLine(a: ActionNode): string {
  const mark = a.verdict === 'verified' ? '✓' : '✗';
  const what = a.tool ? `${a.operation || 'action'} ${a.tool}` : a.name;
  const res = a.resource ? ` → ${a.resource}` : '';
  const why = a.reasons.length ? `  [${a.reasons.join(', ')}]` : '';
  return `${mark} ${what}${res}${why}`;
}

/** The seed's correlation view as terminal text: agents nested by delegation, counts, the human at the root. */
export function renderTaskTree(tree: TaskTree, opts: RenderOptions = {}): string {
  const out: string[] = [];
  out.push(`Task ID: ${tree.taskId}${tree.purpose ? ` (${tree.purpose})` : ''}`);
  const walkActions = (nodes: ActionNode[], prefix: string) => {
    nodes.forEach((a, i) => {
      const last = i === nodes.length - 1;
      out.push(`${prefix}${last ? '`-- ' : '|-- '}${actionLine(a)}`);
      walkActions(a.children, prefix + (last ? '    ' : '|   '));
    });
  };
  const walk = (nodes: AgentNode[], prefix: string) => {
    for (const n of nodes) {
      out.push(`${prefix}|`);
      out.push(`${prefix}+-- ${agentLine(n)}`);
      const inner = prefix + '|   ';
      if (opts.actions) walkActions(n.actionTree, inner);
      walk(n.delegates, inner);
    }
  };
  walk(tree.agents, '');
  if (tree.unattributed.length > 0) {
    out.push('|');
    out.push('+-- (no verifiable delegation path)');
    walk(tree.unattributed, '    ');
  }
  out.push('');
  out.push(`Total: ${plural(tree.total, 'action')} across ${plural(tree.agentCount, 'agent')}`);
  if (tree.rootHuman) {
    const at = tree.requestedAt ? ` at ${tree.requestedAt.slice(11, 16)} UTC on ${tree.requestedAt.slice(0, 10)}` : '';
    out.push(`All traceable to: ${tree.rootHuman}'s request${at}`);
  }
  out.push(`Verified: ${tree.verified}   Flagged: ${tree.failed}`);
  if (tree.failed > 0) {
    const reasons = Object.entries(tree.failuresByReason).sort((a, b) => b[1] - a[1]);
    out.push(`Flagged by reason: ${reasons.map(([r, n]) => `${r} ×${n}`).join(', ')}`);
    const flagged: Array<{ agent: AgentNode; action: ActionNode }> = [];
    const collect = (nodes: AgentNode[]) => {
      for (const n of nodes) {
        const visit = (as: ActionNode[]) => as.forEach((a) => { if (a.verdict !== 'verified') flagged.push({ agent: n, action: a }); visit(a.children); });
        visit(n.actionTree);
        collect(n.delegates);
      }
    };
    collect(tree.agents);
    collect(tree.unattributed);
    flagged.sort((x, y) => (x.action.ts < y.action.ts ? -1 : 1));
    const max = opts.maxFlagged ?? 20;
    for (const { agent, action } of flagged.slice(0, max)) {
      out.push(`  ✗ ${agent.agentName}: ${action.tool || action.name}${action.resource ? ` → ${action.resource}` : ''}`);
      action.details.forEach((d, i) => out.push(`      ${action.reasons[i] ?? ''}: ${d}`));
    }
    if (flagged.length > max) out.push(`  … ${flagged.length - max} more`);
  }
  return out.join('\n');
}
