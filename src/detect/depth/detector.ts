/**
 * Detector 2: chain depth. `chain.depth_unusual` when a verified chain is
 * deeper than usual for its root agent type (depth-model.ts), once the
 * tenant is past learning; `chain.depth_exceeded` when it has more links than
 * the configured bound, from the first chain (a bound is a rule, not a
 * baseline). The subject is the root type and the depth, so every
 * processor meeting the same depth derives the same alert id, and a deeper
 * chain still is a new alert. Only verified chains are judged, for the
 * reason given in paths/detector.ts; a chain over the verifier's own limit
 * already fails as chain.too_deep.
 */
import type { ActionRow } from '../../correlate/rows.js';
import type { AlertSignal } from '../alert.js';
import type { DetectionInput, DetectorContext, DetectorOutput, StreamingDetector } from '../detector.js';
import { pathShape, viewChain, type ChainView } from '../paths/chain-view.js';
import { sharedChainHistory, type ChainHistory } from '../paths/chain-history.js';
import { FreshChains } from '../paths/fresh-chains.js';
import { TenantClock } from '../paths/learning.js';
import { actionContext, LinkIndex } from '../paths/signal-context.js';
import type { DepthConfig } from './config.js';
import { DepthModel } from './depth-model.js';

export class DepthDetector implements StreamingDetector {
  readonly name = 'depth';
  private readonly clock: TenantClock;
  private readonly model: DepthModel;
  /** A chain is judged at most once per interval per processor. */
  private readonly fresh: FreshChains;

  constructor(private readonly config: DepthConfig) {
    this.clock = new TenantClock(config);
    this.model = new DepthModel(config.forgetAfterMs, config.margin, config.maxRootTypes);
    this.fresh = new FreshChains(config.forgetAfterMs, config.agentTypes);
  }

  async start(ctx: DetectorContext, nowMs: number): Promise<void> {
    const lookback = Math.max(this.config.forgetAfterMs, this.config.learningMs);
    const history = await sharedChainHistory(ctx, nowMs - lookback, this.config.baselineLimit);
    this.learnHistory(history);
    ctx.logger.info({ detector: this.name, chains: history.chains.length, rootTypes: this.model.size, truncated: history.truncated }, 'depth baseline loaded from the store');
  }

  /** Teaches the depths the store holds. Pure. */
  learnHistory(history: ChainHistory): void {
    for (const t of history.tenants) this.clock.see(t.tenant, t.lastMs, t.firstMs);
    for (const c of history.chains) {
      const view = viewChain(c.path, this.config.agentTypes);
      if (view !== undefined) this.model.teach(view.tenant, view.types[0] as string, view.depth, c.lastMs);
    }
  }

  observe(input: DetectionInput): DetectorOutput {
    const signals: AlertSignal[] = [];
    const now = input.nowMs;
    let links: LinkIndex | undefined;
    for (const { action: a, view } of this.fresh.of(input.actions, now)) {
      const learning = this.clock.see(view.tenant, now);
      const rootType = view.types[0] as string;
      const { usualMax, unusual } = this.model.judge(view.tenant, rootType, view.depth, now, learning);
      const exceeded = this.config.max > 0 && view.depth > this.config.max;
      if (!unusual && !exceeded) continue;
      links ??= new LinkIndex(input.delegations);
      if (unusual) signals.push(this.signal('chain.depth_unusual', a, view, links, now, `usually at most ${usualMax} links`, { usual_max_depth: usualMax as number, margin: this.config.margin }));
      if (exceeded) signals.push(this.signal('chain.depth_exceeded', a, view, links, now, `over the bound of ${this.config.max} links`, { max_depth: this.config.max }));
    }
    return { signals };
  }

  private signal(kind: 'chain.depth_unusual' | 'chain.depth_exceeded', a: ActionRow, view: ChainView, links: LinkIndex, now: number, why: string, facts: Record<string, number>): AlertSignal {
    const rootType = view.types[0] as string;
    const subject = `${rootType} depth ${view.depth}`;
    return {
      ...actionContext(a, view, now),
      kind,
      severity: kind === 'chain.depth_unusual' ? this.config.severity.unusual : this.config.severity.exceeded,
      subject,
      summary: `chain of ${view.depth} links from ${rootType}, ${why}, in ${view.tenant}`,
      evidence: {
        spanIds: [a.span_id],
        linkIds: links.chain(a.task_id, view),
        facts: { ...facts, tenant: view.tenant, root_type: rootType, chain_depth: view.depth, path: pathShape(view.types), first_span: `${a.trace_id}/${a.span_id}` },
      },
    };
  }

  stats(): { rootTypes: number; tenants: number } {
    return { rootTypes: this.model.size, tenants: this.clock.size };
  }
}
