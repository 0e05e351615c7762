/**
 * A notification in the Prometheus Alertmanager webhook format (version
 * "4"), so receivers written for Alertmanager or Grafana take chainsight's
 * alerts unchanged. One notification per request: the group is the alert
 * itself, so groupKey is stable per alert and truncatedAlerts is 0.
 */
import type { AlertChange } from './change.js';

export interface AlertmanagerAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface AlertmanagerPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: AlertmanagerAlert[];
}

/** Alertmanager's "not ended" time: Go's zero time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const iso = (ms: number): string => new Date(ms).toISOString();

/** Label names follow Prometheus's rule ([a-zA-Z_][a-zA-Z0-9_]*); only non-empty values are sent. */
function labelsOf(c: AlertChange): Record<string, string> {
  const a = c.alert;
  const labels: Record<string, string> = {
    alertname: a.kind,
    severity: a.severity,
    tenant: a.tenant,
    alert_id: c.id,
    subject: a.subject,
    task_id: a.taskId,
    human: a.human,
    chain_hash: a.chainHash,
  };
  for (const k of Object.keys(labels)) if (labels[k] === '') delete labels[k];
  return labels;
}

function annotationsOf(c: AlertChange): Record<string, string> {
  const a = c.alert;
  const ann: Record<string, string> = {
    summary: a.summary,
    description: `${a.summary} (${a.count} trigger${a.count === 1 ? '' : 's'}; agents: ${a.agents.join(', ') || 'none'})`,
    agents: a.agents.join(','),
    trace_id: a.traceId,
    span_ids: a.evidence.spanIds.join(','),
    link_ids: a.evidence.linkIds.join(','),
    facts: JSON.stringify(a.evidence.facts),
  };
  if (c.status === 'resolved') {
    ann.resolution = a.resolution;
    ann.resolved_by = a.resolvedBy;
  }
  for (const k of Object.keys(ann)) if (ann[k] === '') delete ann[k];
  return ann;
}

export function alertmanagerPayload(c: AlertChange, opts: { receiver: string; externalUrl: string }): AlertmanagerPayload {
  const labels = labelsOf(c);
  const annotations = annotationsOf(c);
  const endsAt = c.status === 'resolved' ? iso(c.alert.resolvedAtMs || c.atMs) : ZERO_TIME;
  return {
    version: '4',
    groupKey: `{}:{alert_id="${c.id}"}`,
    truncatedAlerts: 0,
    status: c.status,
    receiver: opts.receiver,
    groupLabels: { alert_id: c.id },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: opts.externalUrl,
    alerts: [
      {
        status: c.status,
        labels,
        annotations,
        startsAt: iso(c.alert.firstSeenMs || c.atMs),
        endsAt,
        generatorURL: `${opts.externalUrl}/api/alerts/${c.id}`,
        // Alertmanager's fingerprints are 16 hex; the alert id's first 16 are as stable.
        fingerprint: c.id.slice(0, 16),
      },
    ],
  };
}
