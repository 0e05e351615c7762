/**
 * ChainVerifier: time-independent chain checks behind two LRU caches, and
 * per-span checks on top.
 *
 *  - chain cache: the token list (found by its last link, confirmed link by
 *    link) → frozen ChainCheck. A chain seen again costs a lookup and a string
 *    comparison, never a signature check. Failures
 *    are cached too: they are deterministic for a given trust store and policy.
 *  - link cache: (root or not, token hash) → LinkResult, so a link shared by
 *    several chains (a planner's link under many sub-agents) is verified once.
 *
 * Both caches are dropped when the trust store's generation changes (reload).
 * Verification uses only synchronous node:crypto, so `check` and `verifySpan`
 * always return synchronously; `verifyOrRefresh` (what the pipeline calls)
 * returns a Promise only when a chain lacks a key that a remote bundle's
 * refresh might bring.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChainCheck, ChainSummary, VerifiedLink } from '../model/delegation.js';
import type { AgentSpan } from '../model/span.js';
import { VERIFIED, verdictOf, type Reason, type Verdict } from '../model/verdict.js';
import { assembleChain, chainFaultReason } from './chain-rules.js';
import { checkExchangeToken } from './exchange-check.js';
import { checkLink, type LinkCheckContext, type LinkResult } from './link-check.js';
import type { VerifyPolicy } from './policy.js';
import { ScopeMatcher } from './scope.js';
import { spanReasons } from './span-rules.js';
import { summarize } from './summary.js';
import { EXCHANGE_TOKEN_TYPE, peekTokenType } from './token.js';
import type { TrustStore } from './trust-store.js';

export interface ChainVerifierOptions {
  /** Chains kept (default 20,000). */
  chainCacheSize?: number;
  /** Links kept (default 50,000). */
  linkCacheSize?: number;
}

/** Counters, for metrics and for tests that must observe the caches. */
export interface VerifierStats {
  chainHits: number;
  chainMisses: number;
  linkHits: number;
  linkMisses: number;
  /** Signatures actually verified with a public key. */
  signatureChecks: number;
  /** Times the caches were dropped because the trust store reloaded. */
  cacheResets: number;
}

interface CachedChain {
  check: ChainCheck;
  depth: number;
  key: string;
  /** The exact chain this entry is for (the cache is keyed by its last link). */
  tokens: readonly string[];
  /** Built on first request, then shared by every span of the chain. */
  summary?: ChainSummary;
  /** Trust domains whose bundle lacked a key or authority this chain needs. */
  wantsFresher: readonly string[];
}

/**
 * Fetches a fresher bundle for a trust domain when a link needs a key it
 * lacks: a promise when a refresh is under way or was started now, undefined
 * when none will happen (not a remote domain, or rate-limited).
 */
export interface BundleRefresher {
  refreshFor(trustDomain: string): Promise<unknown> | undefined;
}

/** Everything the pipeline stores about one span's verification. */
export interface SpanDetail {
  verdict: Verdict;
  /** Null when the span carries no usable chain. */
  summary: ChainSummary | null;
  /** The chain's cache key ('' without a chain): stable for a given token list, for grouping. */
  chainHash: string;
  check: ChainCheck | null;
  /** Whether the chain came from the cache (no signature was checked for this span). */
  cacheHit: boolean;
}

/**
 * Cache key of a token list. Lengths go first so that different splits of the
 * same characters (['a.b', 'c'] vs ['a', 'b.c']) never share a key.
 */
export function chainKey(tokens: readonly string[]): string {
  let lengths = '';
  for (const t of tokens) lengths += t.length + ',';
  return hash('sha256', lengths + '|' + tokens.join(''), 'base64');
}

/** What a span without a usable chain is checked against: nothing to compare with. */
const NO_CHAIN: ChainCheck = Object.freeze({ links: Object.freeze([]) as unknown as VerifiedLink[], reasons: Object.freeze([]) as unknown as Reason[] });

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function freezeCheck(c: ChainCheck): ChainCheck {
  for (const r of c.reasons) Object.freeze(r);
  Object.freeze(c.reasons);
  Object.freeze(c.links);
  return Object.freeze(c);
}

export class ChainVerifier {
  readonly stats: VerifierStats = { chainHits: 0, chainMisses: 0, linkHits: 0, linkMisses: 0, signatureChecks: 0, cacheResets: 0 };
  readonly scopes: ScopeMatcher;
  private readonly chains: LRUCache<string, CachedChain>;
  private readonly links: LRUCache<string, LinkResult>;
  private readonly ctx: LinkCheckContext;
  private generation: number;
  private refresher: BundleRefresher | undefined;

  constructor(
    readonly trust: TrustStore,
    readonly policy: VerifyPolicy,
    options: ChainVerifierOptions = {},
  ) {
    this.scopes = new ScopeMatcher(policy.implications);
    this.chains = new LRUCache({ max: options.chainCacheSize ?? 20_000 });
    this.links = new LRUCache({ max: options.linkCacheSize ?? 50_000 });
    this.generation = trust.generation;
    this.ctx = {
      trust,
      policy,
      allowedAlgorithms: new Set(policy.algorithms),
      onSignatureCheck: () => {
        this.stats.signatureChecks++;
      },
    };
  }

  /** Time-independent check of a chain (root first). */
  check(tokens: readonly string[]): ChainCheck | Promise<ChainCheck> {
    return this.lookup(tokens).check;
  }

  /** Full verdict for one span: cached chain reasons plus this span's time, agent, task and scope checks. */
  verifySpan(span: AgentSpan): Verdict | Promise<Verdict> {
    if (span.chain === null || span.chainError !== undefined) return this.chainlessVerdict(span);
    return this.spanVerdict(this.lookup(span.chain), span);
  }

  /**
   * A span without a usable chain: the chain's reason, plus every span check
   * that needs no link (agent, task, operation, undeclared scopes), since all
   * reasons are reported.
   */
  private chainlessVerdict(span: AgentSpan): Verdict {
    const chain: Reason = span.chainError
      ? chainFaultReason(span.chainError, this.policy.maxDepth)
      : { code: 'chain.missing', message: 'span carries no chainsight.delegation.chain' };
    return verdictOf([chain, ...spanReasons(NO_CHAIN, 0, span, this.policy.clockSkewSec, this.scopes)]);
  }

  private spanVerdict({ check, depth }: CachedChain, span: AgentSpan): Verdict {
    const own = spanReasons(check, depth, span, this.policy.clockSkewSec, this.scopes);
    if (check.reasons.length === 0 && own.length === 0) return VERIFIED;
    const all: Reason[] = check.reasons.concat(own);
    return verdictOf(all);
  }

  /**
   * Verdict plus the chain's check, summary and key, for storage. Synchronous
   * (verification uses only sync node:crypto); the summary is computed once per
   * cached chain.
   */
  verifyDetailed(span: AgentSpan): SpanDetail {
    return this.detailed(span).detail;
  }

  private detailed(span: AgentSpan): { detail: SpanDetail; wantsFresher: readonly string[] } {
    if (span.chain === null || span.chainError !== undefined) {
      return { detail: { verdict: this.chainlessVerdict(span), summary: null, chainHash: '', check: null, cacheHit: false }, wantsFresher: [] };
    }
    const misses = this.stats.chainMisses;
    const entry = this.lookup(span.chain);
    entry.summary ??= Object.freeze(summarize(entry.check));
    const detail = { verdict: this.spanVerdict(entry, span), summary: entry.summary, chainHash: entry.key, check: entry.check, cacheHit: this.stats.chainMisses === misses };
    return { detail, wantsFresher: entry.wantsFresher };
  }

  /** Let unknown keys ask for a fresher bundle (remote trust sources). */
  useRefresher(refresher: BundleRefresher | undefined): void {
    this.refresher = refresher;
  }

  /**
   * verifyDetailed, except that a chain failing for want of a key its trust
   * domain's remote bundle might now hold waits for one (rate-limited, shared)
   * refresh and is judged again. Synchronous whenever nothing is missing.
   */
  verifyOrRefresh(span: AgentSpan): SpanDetail | Promise<SpanDetail> {
    const { detail: first, wantsFresher: wanted } = this.detailed(span);
    if (this.refresher === undefined || wanted.length === 0) return first;
    const waits = wanted.map((td) => this.refresher?.refreshFor(td)).filter((p): p is Promise<unknown> => p !== undefined);
    if (waits.length === 0) return first;
    // A failed refresh changes nothing: the span is judged on the keys in force.
    return Promise.allSettled(waits).then(() => this.verifyDetailed(span));
  }

  summarize(check: ChainCheck): ChainSummary {
    return summarize(check);
  }

  /** Drop both caches (also happens by itself when the trust store reloads). */
  clear(): void {
    this.chains.clear();
    this.links.clear();
  }

  private lookup(tokens: readonly string[]): CachedChain {
    if (this.trust.generation !== this.generation) {
      this.generation = this.trust.generation;
      this.clear();
      this.stats.cacheResets++;
    }
    // Looked up by the last link's text, then confirmed by comparing every
    // link: as exact as a digest of the whole chain, without hashing ~2 KB per span.
    const last = tokens[tokens.length - 1] ?? '';
    const hit = this.chains.get(last);
    if (hit !== undefined && sameTokens(hit.tokens, tokens)) {
      this.stats.chainHits++;
      return hit;
    }
    this.stats.chainMisses++;
    const { check, wantsFresher } = this.verifyChain(tokens);
    // A token-exchange token is one token holding every hop: its depth is its hops.
    const depth = check.evidence === 'sts-token' && check.links.length > 0 ? check.links.length : tokens.length;
    const entry: CachedChain = { check: freezeCheck(check), depth, key: chainKey(tokens), tokens: [...tokens], wantsFresher };
    this.chains.set(last, entry);
    return entry;
  }

  private verifyChain(tokens: readonly string[]): { check: ChainCheck; wantsFresher: string[] } {
    // One STS-issued token instead of a chain of links (spec §11): told apart by its typ alone.
    if (tokens.length === 1 && peekTokenType(tokens[0] as string) === EXCHANGE_TOKEN_TYPE) {
      return checkExchangeToken(tokens[0] as string, this.ctx);
    }
    const n = Math.min(tokens.length, this.policy.maxDepth);
    const results: LinkResult[] = [];
    for (let i = 0; i < n; i++) results.push(this.linkResult(tokens[i] as string, i === 0));
    const wantsFresher = [...new Set(results.flatMap((r) => (r.wantsFresherBundle === undefined ? [] : [r.wantsFresherBundle])))];
    return { check: assembleChain(results, tokens.length, this.policy.maxDepth, this.scopes), wantsFresher };
  }

  private linkResult(token: string, isRoot: boolean): LinkResult {
    const h = hash('sha256', token, 'base64url');
    // Root and non-root links bind keys differently, so position is part of the key.
    const key = (isRoot ? 'r' : 'c') + h;
    const hit = this.links.get(key);
    if (hit !== undefined) {
      this.stats.linkHits++;
      return hit;
    }
    this.stats.linkMisses++;
    const r = checkLink(token, isRoot, h, this.ctx);
    // Shared by every chain holding this link: nobody may mutate it.
    if (r.link) {
      Object.freeze(r.link.claims.scope);
      Object.freeze(r.link.claims);
      Object.freeze(r.link);
    }
    this.links.set(key, r);
    return r;
  }
}
