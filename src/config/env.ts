/**
 * Typed reads of environment variables that collect every problem instead of
 * stopping at the first, so an operator fixes a broken deployment in one pass.
 * Each read also records the variable as known, which is how unknown
 * `CHAINSIGHT_*` variables (usually typos) are found.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0]! : `invalid configuration:\n- ${problems.join('\n- ')}`);
  }
}

export class EnvReader {
  readonly problems: string[] = [];
  private readonly known = new Set<string>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  /** The raw value; empty counts as unset. */
  string(name: string): string | undefined {
    this.known.add(name);
    const raw = this.env[name];
    return raw === undefined || raw === '' ? undefined : raw;
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
      this.problems.push(`${name} must be an integer ${range}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return n;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, 0, 65_535);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return raw as T;
  }

  /** An http(s) URL, checked for shape only. */
  url(name: string): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http');
      return raw;
    } catch {
      this.problems.push(`${name} must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
      return undefined;
    }
  }

  /** Comma-separated host:port pairs. */
  hostPorts(name: string): string[] {
    const raw = this.string(name);
    if (raw === undefined) return [];
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) {
      if (!/^[^\s:]+:\d{1,5}$/.test(item) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(item)) {
        this.problems.push(`${name} must list host:port pairs separated by commas, got ${JSON.stringify(item)}`);
      }
    }
    return items;
  }

  /** `CHAINSIGHT_*` variables that no read asked for: most likely typos. */
  unknownChainsightVariables(): string[] {
    return Object.keys(this.env).filter((k) => k.startsWith('CHAINSIGHT_') && !this.known.has(k)).sort();
  }

  /** Throws one error naming every problem found so far. */
  assertValid(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}
