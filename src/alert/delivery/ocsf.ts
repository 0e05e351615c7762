/**
 * A notification as an OCSF Detection Finding (class 2004, category 2
 * Findings), the shape SIEM pipelines already read. The first firing
 * creates the finding (activity 1), a reopen updates it (2), a resolution
 * closes it (3); finding_info.uid is the alert id so a SIEM folds the three
 * into one finding, and metadata.uid is the notification's idempotency key.
 */
import type { Severity } from '../../detect/alert.js';
import type { AlertChange } from './change.js';

export const OCSF_VERSION = '1.3.0';
export const DETECTION_FINDING = { classUid: 2004, className: 'Detection Finding', categoryUid: 2, categoryName: 'Findings' } as const;

const ACTIVITY = { 1: 'Create', 2: 'Update', 3: 'Close' } as const;
type ActivityId = keyof typeof ACTIVITY;

/** OCSF severity_id: 1 Informational … 5 Critical, one step per chainsight severity. */
const SEVERITY: Record<Severity, { id: number; name: string }> = {
  info: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
};

export interface OcsfOptions {
  productName: string;
  externalUrl: string;
  /** The notification's idempotency key. */
  key: string;
}

export function activityOf(c: AlertChange): ActivityId {
  if (c.status === 'resolved') return 3;
  return c.seq === 0 ? 1 : 2;
}

export function ocsfDetectionFinding(c: AlertChange, opts: OcsfOptions): Record<string, unknown> {
  const a = c.alert;
  const activityId = activityOf(c);
  const severity = SEVERITY[a.severity];
  const resolved = c.status === 'resolved';
  const resources: Record<string, unknown>[] = a.agents.map((agent) => ({ type: 'agent', uid: agent, name: agent }));
  if (a.taskId !== '') resources.push({ type: 'task', uid: a.taskId, name: a.taskId });
  return {
    class_uid: DETECTION_FINDING.classUid,
    class_name: DETECTION_FINDING.className,
    category_uid: DETECTION_FINDING.categoryUid,
    category_name: DETECTION_FINDING.categoryName,
    activity_id: activityId,
    activity_name: ACTIVITY[activityId],
    type_uid: DETECTION_FINDING.classUid * 100 + activityId,
    type_name: `${DETECTION_FINDING.className}: ${ACTIVITY[activityId]}`,
    time: c.atMs,
    severity_id: severity.id,
    severity: severity.name,
    status_id: resolved ? 4 : 1,
    status: resolved ? 'Resolved' : 'New',
    message: a.summary,
    metadata: {
      version: OCSF_VERSION,
      uid: opts.key,
      product: { name: opts.productName, vendor_name: opts.productName },
      tenant_uid: a.tenant,
    },
    finding_info: {
      uid: c.id,
      title: a.summary,
      desc: `${a.kind} on ${a.subject}`,
      types: [a.kind],
      analytic: { uid: a.kind, name: a.kind, type_id: 1, type: 'Rule' },
      created_time: a.firstSeenMs || c.atMs,
      first_seen_time: a.firstSeenMs || c.atMs,
      last_seen_time: a.lastSeenMs || c.atMs,
      modified_time: c.atMs,
      src_url: `${opts.externalUrl}/api/alerts/${c.id}`,
    },
    evidences: [
      {
        data: {
          span_ids: a.evidence.spanIds,
          link_ids: a.evidence.linkIds,
          facts: a.evidence.facts,
          trace_id: a.traceId,
          chain_hash: a.chainHash,
        },
      },
    ],
    resources,
    ...(a.human !== '' ? { actor: { user: { name: a.human, uid: a.human } } } : {}),
    ...(resolved ? { comment: a.resolution, end_time: a.resolvedAtMs || c.atMs } : {}),
    start_time: a.firstSeenMs || c.atMs,
    count: a.count,
    unmapped: { tenant: a.tenant, subject: a.subject, window_start: a.windowStartMs, resolved_by: a.resolvedBy },
  };
}
