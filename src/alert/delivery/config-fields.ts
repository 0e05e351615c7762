/**
 * Typed reads of one YAML section that collect every problem with its path
 * (`delivery.destinations[0].url: …`), the way the detection config reports
 * a broken file in one pass. Absent keys take the default.
 */
export class SectionReader {
  constructor(
    private readonly o: Record<string, unknown>,
    readonly at: string,
    readonly problems: string[],
  ) {}

  /** A reader over `raw`, which must be a mapping (or absent: an empty one). */
  static of(raw: unknown, at: string, problems: string[]): SectionReader {
    if (raw === undefined || raw === null) return new SectionReader({}, at, problems);
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      problems.push(`${at}: must be a mapping`);
      return new SectionReader({}, at, problems);
    }
    return new SectionReader(raw as Record<string, unknown>, at, problems);
  }

  raw(key: string): unknown {
    return this.o[key];
  }

  has(key: string): boolean {
    return this.o[key] !== undefined && this.o[key] !== null;
  }

  /** Keys the section does not know: most likely typos, reported rather than ignored. */
  only(keys: readonly string[]): void {
    for (const k of Object.keys(this.o)) if (!keys.includes(k)) this.problems.push(`${this.at}/${k}: is not a known key (known: ${keys.join(', ')})`);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'boolean') return v;
    this.problems.push(`${this.at}/${key}: must be true or false`);
    return fallback;
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const v = this.o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max) return v;
    this.problems.push(`${this.at}/${key}: must be an integer from ${min} to ${max}`);
    return fallback;
  }

  string(key: string, fallback: string): string {
    const v = this.o[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && v.length > 0 && v.length <= 4096) return v;
    this.problems.push(`${this.at}/${key}: must be a non-empty string`);
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.o[key];
    if (v === undefined || v === null) return fallback;
    if ((allowed as readonly unknown[]).includes(v)) return v as T;
    this.problems.push(`${this.at}/${key}: must be one of ${allowed.join(', ')}`);
    return fallback;
  }

  strings(key: string): string[] {
    const v = this.o[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v) && v.every((s) => typeof s === 'string' && s.length > 0)) return v as string[];
    this.problems.push(`${this.at}/${key}: must be a list of strings`);
    return [];
  }

  /** An http(s) URL without credentials in it (they would end up in logs): secrets come from the environment. */
  url(key: string): URL | undefined {
    const v = this.o[key];
    if (v === undefined || v === null) return undefined;
    try {
      const u = new URL(String(v));
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
      if (u.username !== '' || u.password !== '') {
        this.problems.push(`${this.at}/${key}: must not carry credentials`);
        return undefined;
      }
      return u;
    } catch {
      this.problems.push(`${this.at}/${key}: must be an http:// or https:// URL`);
      return undefined;
    }
  }
}
