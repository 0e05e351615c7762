import { assertIdentifier } from '../client.js';

/**
 * Splits a DDL file into its statements: comments dropped, each statement
 * trimmed, split on `;` outside quotes, so a `;` or `--` inside a string
 * literal or a quoted identifier stays where it is. Pure.
 */
export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated /* comment in DDL');
      current += ' ';
      i = end + 2;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = quotedEnd(text, i);
      current += text.slice(i, end);
      i = end;
      continue;
    }
    if (ch === ';') {
      push(out, current);
      current = '';
    } else current += ch;
    i++;
  }
  push(out, current);
  return out;
}

/** Index just past the quoted run opening at `start`; a backslash or a doubled quote escapes. */
export function quotedEnd(text: string, start: number): number {
  const quote = text[start]!;
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  throw new Error(`unterminated ${quote} quote in DDL`);
}

function push(out: string[], statement: string): void {
  // Lines that only held comments leave blank lines behind: drop them.
  const s = statement.split('\n').filter((line) => line.trim() !== '').join('\n').trim();
  if (s) out.push(s);
}

/** The placeholder DDL files use for the database name. */
export const DB_PLACEHOLDER = '${db}';

/** A statement for one database: the name must be a plain identifier (it is trusted configuration, but still checked). */
export function forDatabase(statement: string, database: string): string {
  return statement.replaceAll(DB_PLACEHOLDER, assertIdentifier(database));
}
