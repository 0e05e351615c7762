/**
 * The revocations in force, indexed for per-span lookups: pure, immutable once
 * built, with a version that changes whenever its content does (so caches
 * keyed on it never serve a pre-revocation answer).
 */
import type { VerifiedLink } from '../model/delegation.js';
import type { Reason, ReasonCode } from '../model/verdict.js';
import type { Revocation, RevocationKind } from './model.js';

/** One revocation covering a chain, at the link it matched. */
export interface RevocationHit {
  revocation: Revocation;
  link: number;
}

const CODES: Record<RevocationKind, ReasonCode> = { link: 'revoked.link', agent: 'revoked.agent', key: 'revoked.key' };

function addTo(map: Map<string, Revocation[]>, key: string, r: Revocation): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [r]);
  else list.push(r);
}

export class RevocationSet {
  private readonly byKind: Record<RevocationKind, Map<string, Revocation[]>> = { link: new Map(), agent: new Map(), key: new Map() };

  constructor(
    readonly revocations: readonly Revocation[],
    readonly version: number,
  ) {
    for (const r of revocations) addTo(this.byKind[r.kind], r.target, r);
  }

  static readonly EMPTY = new RevocationSet([], 0);

  get size(): number {
    return this.revocations.length;
  }

  /**
   * Every revocation covering a chain: a link revocation by the link's hash or
   * jti (so every chain holding the link, i.e. everything delegated from it),
   * an agent revocation by any link's delegator or delegatee, a key revocation
   * by any link's kid.
   */
  covering(links: readonly VerifiedLink[]): RevocationHit[] {
    if (this.revocations.length === 0) return [];
    const hits: RevocationHit[] = [];
    const add = (list: Revocation[] | undefined, link: number) => {
      if (list !== undefined) for (const revocation of list) hits.push({ revocation, link });
    };
    for (let i = 0; i < links.length; i++) {
      const l = links[i]!;
      add(this.byKind.link.get(l.hash), i);
      if (l.claims.jti !== l.hash) add(this.byKind.link.get(l.claims.jti), i);
      add(this.byKind.agent.get(l.claims.iss), i);
      if (l.claims.sub !== l.claims.iss) add(this.byKind.agent.get(l.claims.sub), i);
      add(this.byKind.key.get(l.kid), i);
    }
    return hits;
  }
}

/**
 * The reasons for a span that starts at `startMs` under a chain with these
 * hits: one per revocation in force at that time. A span without a usable
 * start is judged as if after every revocation (fail closed).
 */
export function revocationReasons(hits: readonly RevocationHit[], startMs: number): Reason[] {
  const out: Reason[] = [];
  const known = startMs > 0 && Number.isFinite(startMs);
  for (const { revocation: r, link } of hits) {
    if (known && startMs < r.revokedAtMs) continue;
    out.push({
      code: CODES[r.kind],
      link,
      message: `${r.kind} ${JSON.stringify(r.target.length > 80 ? r.target.slice(0, 80) + '…' : r.target)} revoked ${new Date(r.revokedAtMs).toISOString()} by ${JSON.stringify(r.revokedBy.slice(0, 80))}: ${JSON.stringify(r.reason.slice(0, 200))}`,
    });
  }
  return out;
}

/**
 * Whether a revocation still matters at `nowMs`. After its expiry plus the
 * span age bound and skew, every span it covers that could still be accepted
 * starts after the covered links expired, so `time.expired` fails it anyway.
 */
export function inForce(r: Revocation, nowMs: number, graceMs: number): boolean {
  return r.expiresAtMs === 0 || nowMs <= r.expiresAtMs + graceMs;
}
