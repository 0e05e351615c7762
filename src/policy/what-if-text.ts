/** A what-if report as text for the terminal (`chainsight policy what-if`). */
import type { RuleChange } from './what-if.js';
import type { StoreWhatIfReport } from './what-if-store.js';

function section(title: string, changes: RuleChange[], out: string[]): void {
  if (changes.length === 0) return;
  out.push('', title);
  for (const c of changes) {
    out.push(`  ${c.rule}: ${c.count} span${c.count === 1 ? '' : 's'}`);
    for (const e of c.examples) {
      // Messages are stored text from spans: one line each, control characters shown escaped.
      const msg = JSON.stringify(e.message).slice(1, -1);
      out.push(`    task ${e.taskId}  trace ${e.traceId} span ${e.spanId}  ${e.ts}`);
      out.push(`      agent ${e.agent}${e.link !== undefined ? `  link ${e.link}` : ''}: ${msg}`);
    }
  }
}

export function renderWhatIf(r: StoreWhatIfReport): string {
  const t = r.totals;
  const out: string[] = [];
  out.push(`What-if: draft policy ${JSON.stringify(r.draft.version)} (revision ${r.draft.revision.slice(0, 12)})`);
  out.push(`Range: ${r.range.from ?? 'the beginning'} to ${r.range.to ?? 'no end'}`);
  out.push(`Replayed ${t.replayed} stored decision${t.replayed === 1 ? '' : 's'} (the newest per span)${r.truncated ? ', the newest only: more were stored than the limit' : ''}.`);
  if (r.storedPolicies.length > 0) {
    out.push(`Stored under: ${r.storedPolicies.map((p) => `${JSON.stringify(p.version)} ${p.revision ? p.revision.slice(0, 12) : '(no engine answered)'} ×${p.decisions}`).join(', ')}`);
  }
  if (r.actions.notReplayable > 0) {
    out.push(`Not replayable: ${r.actions.notReplayable} of ${r.actions.stored} stored actions have no decision (no policy stage judged them, or their chain could not be read).`);
  }
  if (t.unreadable > 0) out.push(`Unreadable: ${t.unreadable} stored decisions whose logged input cannot be read back.`);
  out.push('');
  out.push(`Newly denied:  ${t.newlyDenied}`);
  out.push(`Newly allowed: ${t.newlyAllowed}`);
  out.push(`Unchanged:     ${t.stillAllowed} allowed, ${t.stillDenied} denied${t.reasonsChanged > 0 ? ` (${t.reasonsChanged} of them by other rules)` : ''}`);
  section('Newly denied, by the draft rule that denies (a span denied by several rules counts under each):', r.newlyDenied, out);
  section('Newly allowed, by the stored rule that denied:', r.newlyAllowed, out);
  return out.join('\n') + '\n';
}
