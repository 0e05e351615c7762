/** Reads the allowlist file named by the `paths` config (the I/O half of allowlist.ts). */
import { readFile } from 'node:fs/promises';
import { EMPTY_ALLOWLIST, parseAllowlist, type Allowlist } from './allowlist.js';

/** The allowlist in `file`; unreadable or invalid parts are reported in `problems` and allow nothing. */
export async function loadAllowlist(file: string, problems: string[]): Promise<Allowlist> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    problems.push(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return EMPTY_ALLOWLIST;
  }
  return parseAllowlist(text, file, problems);
}
