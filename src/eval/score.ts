/**
 * Scores the alerts a run raised against the scenario's labels: per alert
 * kind and per detector, how many labeled anomalies were found (recall) and
 * how many alerts were about one (precision). Alerts about benign novelty (a
 * legitimately new agent or path, which a first-seen detector is right to
 * report once) are counted apart, so both readings are visible. Pure.
 */
import { ALERT_KINDS, type AlertKind } from '../detect/alert.js';
import type { Label } from './plan.js';

/** What scoring needs of a stored alert (a subset of the API's AlertView). */
export interface ObservedAlert {
  id: string;
  kind: string;
  tenant: string;
  subject: string;
  taskId: string;
  agents: readonly string[];
}

/** The detector module owning each kind (src/detect/<module>/). */
export function detectorOf(kind: string): string {
  if (kind.startsWith('delegation.')) return 'paths';
  if (kind.startsWith('chain.')) return 'depth';
  if (kind.startsWith('scope.')) return 'scope';
  if (kind.startsWith('resource.') || kind.startsWith('agent.')) return 'cross-agent';
  if (kind.startsWith('integrity.')) return 'integrity';
  if (kind.startsWith('policy.')) return 'policy';
  return 'unknown';
}

export function matches(alert: ObservedAlert, label: Label): boolean {
  if (alert.kind !== label.kind) return false;
  if (label.taskIds.includes(alert.taskId)) return true;
  if (label.includes.length === 0) return false;
  const hay = `${alert.subject} ${alert.agents.join(' ')}`;
  return label.includes.some((s) => hay.includes(s));
}

export interface Tally {
  /** Labeled anomalies, and how many of them some alert matched. */
  labels: number;
  found: number;
  /** Alerts raised, split by what they matched. */
  alerts: number;
  anomaly: number;
  benign: number;
  unexpected: number;
}

export interface KindScore extends Tally {
  kind: string;
  detector: string;
  missed: Label[];
  unexpectedAlerts: ObservedAlert[];
}

export interface EvalScore {
  byKind: KindScore[];
  byDetector: Array<Tally & { detector: string }>;
}

/** Share of alerts about an anomaly; 1 when nothing was raised (no alert, no noise). */
export function precision(t: Tally): number {
  return t.alerts === 0 ? 1 : t.anomaly / t.alerts;
}

/** Precision when alerts about benign novelty count as right. */
export function precisionWithBenign(t: Tally): number {
  return t.alerts === 0 ? 1 : (t.anomaly + t.benign) / t.alerts;
}

/** Share of labeled anomalies some alert matched; 1 when none was labeled. */
export function recall(t: Tally): number {
  return t.labels === 0 ? 1 : t.found / t.labels;
}

export function scoreAlerts(labels: readonly Label[], alerts: readonly ObservedAlert[]): EvalScore {
  const kinds = new Set<string>([...ALERT_KINDS, ...alerts.map((a) => a.kind)]);
  const byKind: KindScore[] = [];
  for (const kind of kinds) {
    const kindLabels = labels.filter((l) => l.kind === kind);
    const anomalies = kindLabels.filter((l) => l.injection !== null);
    const benign = kindLabels.filter((l) => l.injection === null);
    const kindAlerts = alerts.filter((a) => a.kind === kind);
    const s: KindScore = { kind, detector: detectorOf(kind), labels: anomalies.length, found: 0, alerts: kindAlerts.length, anomaly: 0, benign: 0, unexpected: 0, missed: [], unexpectedAlerts: [] };
    for (const l of anomalies) {
      if (kindAlerts.some((a) => matches(a, l))) s.found++;
      else s.missed.push(l);
    }
    for (const a of kindAlerts) {
      if (anomalies.some((l) => matches(a, l))) s.anomaly++;
      else if (benign.some((l) => matches(a, l))) s.benign++;
      else {
        s.unexpected++;
        s.unexpectedAlerts.push(a);
      }
    }
    byKind.push(s);
  }
  const detectors = new Map<string, Tally & { detector: string }>();
  for (const k of byKind) {
    const d = detectors.get(k.detector) ?? { detector: k.detector, labels: 0, found: 0, alerts: 0, anomaly: 0, benign: 0, unexpected: 0 };
    for (const f of ['labels', 'found', 'alerts', 'anomaly', 'benign', 'unexpected'] as const) d[f] += k[f];
    detectors.set(k.detector, d);
  }
  return { byKind, byDetector: [...detectors.values()] };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The score as a fixed-width table: one row per kind, then one per detector. */
export function formatScore(s: EvalScore): string {
  const head = ['', 'labeled', 'found', 'alerts', 'anomaly', 'benign', 'unexpected', 'recall', 'precision', 'prec.+benign'];
  const row = (name: string, t: Tally) => [name, t.labels, t.found, t.alerts, t.anomaly, t.benign, t.unexpected, pct(recall(t)), pct(precision(t)), pct(precisionWithBenign(t))].map(String);
  const rows = [head, ...s.byKind.map((k) => row(k.kind as AlertKind, k)), ['by detector'], ...s.byDetector.map((d) => row(d.detector, d))];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}
