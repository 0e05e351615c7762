/**
 * The trust sources file: which trust domains' bundles are fetched over
 * HTTPS, from where, and which CA to trust for each endpoint.
 *
 *   { "partner.org": { "url": "https://keys.partner.org/bundle", "ca": "partner-ca.pem" } }
 *
 * `ca` is a PEM file (relative paths are relative to the sources file); without
 * it the system's CAs verify the endpoint. Every problem is reported at once
 * and stops start-up: a mistyped source must not silently untrust a domain.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkBundleUrl } from './trust-remote-fetch.js';
import { isTrustDomainName } from './spiffe.js';

export interface RemoteSource {
  trustDomain: string;
  url: string;
  /** PEM text of the CA(s) for this endpoint. */
  ca?: string;
  /** Where the CA came from, for logs. */
  caFile?: string;
}

export class TrustSourcesError extends Error {
  override name = 'TrustSourcesError';
}

const MEMBERS = new Set(['url', 'ca']);

/** Validate a parsed sources file; `caFiles` are resolved against `baseDir`. Pure. */
export function parseTrustSources(json: unknown, baseDir: string): { sources: Array<Omit<RemoteSource, 'ca'>>; problems: string[] } {
  const problems: string[] = [];
  const sources: Array<Omit<RemoteSource, 'ca'>> = [];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { sources, problems: ['expected a JSON object mapping trust domain → { "url", "ca"? }'] };
  for (const [td, v] of Object.entries(json)) {
    if (!isTrustDomainName(td)) {
      problems.push(`${JSON.stringify(td)} is not a trust domain name`);
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${td}: expected an object with "url" and optionally "ca"`);
      continue;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!MEMBERS.has(k)) problems.push(`${td}: unknown member ${JSON.stringify(k)}`);
    if (typeof o.url !== 'string') {
      problems.push(`${td}: "url" must be a string`);
      continue;
    }
    const bad = checkBundleUrl(o.url);
    if (bad !== undefined) problems.push(`${td}: ${bad}`);
    if (o.ca !== undefined && (typeof o.ca !== 'string' || o.ca.length === 0)) problems.push(`${td}: "ca" must be the path of a PEM file`);
    const s: Omit<RemoteSource, 'ca'> = { trustDomain: td, url: o.url };
    if (typeof o.ca === 'string' && o.ca.length > 0) s.caFile = resolve(baseDir, o.ca);
    sources.push(s);
  }
  return { sources, problems };
}

/**
 * Read the sources file and each endpoint's CA, at start-up (synchronously,
 * as the policy file is). A missing file at the default location means "no
 * remote sources"; a missing file that was named explicitly is an error.
 * Throws TrustSourcesError listing every problem.
 */
export function readTrustSources(path: string, explicit: boolean): RemoteSource[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return [];
    throw new TrustSourcesError(`cannot read trust sources ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TrustSourcesError(`trust sources ${path}: invalid JSON: ${(e as Error).message}`);
  }
  const { sources, problems } = parseTrustSources(json, dirname(path));
  const out: RemoteSource[] = [];
  for (const s of sources) {
    if (s.caFile === undefined) {
      out.push(s);
      continue;
    }
    try {
      const ca = readFileSync(s.caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) problems.push(`${s.trustDomain}: ${s.caFile} holds no PEM certificate`);
      out.push({ ...s, ca });
    } catch (e) {
      problems.push(`${s.trustDomain}: cannot read CA ${s.caFile}: ${(e as Error).message}`);
    }
  }
  if (problems.length > 0) throw new TrustSourcesError(`trust sources ${path}:\n- ${problems.join('\n- ')}`);
  return out;
}
