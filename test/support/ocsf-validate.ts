/**
 * What OCSF 1.3 requires of a Detection Finding (class 2004) and of the
 * objects it holds, checked independently of the code that builds it.
 */
export function ocsfProblems(f: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const int = (o: Record<string, unknown>, k: string, allowed?: number[]) => {
    if (!Number.isInteger(o[k])) problems.push(`${k} missing`);
    else if (allowed && !allowed.includes(o[k] as number)) problems.push(`${k}=${o[k]} not allowed`);
  };
  int(f, 'class_uid', [2004]);
  int(f, 'category_uid', [2]);
  int(f, 'activity_id', [1, 2, 3, 99]);
  int(f, 'severity_id', [0, 1, 2, 3, 4, 5, 6, 99]);
  int(f, 'time');
  int(f, 'type_uid');
  if (f.type_uid !== 2004 * 100 + (f.activity_id as number)) problems.push('type_uid must be class_uid * 100 + activity_id');
  if (f.status_id !== undefined) int(f, 'status_id', [0, 1, 2, 3, 4, 99]);
  const meta = f.metadata as Record<string, unknown> | undefined;
  if (!meta) problems.push('metadata missing');
  else {
    if (typeof meta.version !== 'string') problems.push('metadata.version missing');
    const product = meta.product as Record<string, unknown> | undefined;
    if (!product || (typeof product.name !== 'string' && typeof product.vendor_name !== 'string')) problems.push('metadata.product missing');
  }
  const info = f.finding_info as Record<string, unknown> | undefined;
  if (!info) problems.push('finding_info missing');
  else for (const k of ['uid', 'title']) if (typeof info[k] !== 'string' || info[k] === '') problems.push(`finding_info.${k} missing`);
  if (f.evidences !== undefined && (!Array.isArray(f.evidences) || f.evidences.some((e) => typeof e !== 'object' || Object.keys(e as object).length === 0))) problems.push('evidences must be non-empty objects');
  if (f.resources !== undefined && (!Array.isArray(f.resources) || f.resources.some((r) => typeof (r as Record<string, unknown>).uid !== 'string'))) problems.push('resources need a uid');
  return problems;
}
