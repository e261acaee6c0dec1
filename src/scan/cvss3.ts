// CVSS v3.0 / v3.1 base score from a vector, by the FIRST specification's formulas (v3.1
// specification §7.1, weights §7.4, Roundup Appendix A). Records carry vectors, not scores
// (OSV `severity[].score` is the vector), so the score is computed, never looked up or guessed.
// Only the base metrics count: temporal and environmental ones, when present, are read (so a
// vector that has them is still valid) but do not change the base score.

export interface Cvss3 {
  version: '3.0' | '3.1';
  vector: string;
  score: number;
}

const BASE = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  PR: { N: 0.85, L: 0.62, H: 0.27 },
  UI: { N: 0.85, R: 0.62 },
  S: { U: 0, C: 0 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
} as const satisfies Record<string, Record<string, number>>;

// Metrics a vector may also carry (temporal and environmental) and their allowed values.
const OTHER: Record<string, string> = {
  E: 'XUPFH',
  RL: 'XOTWU',
  RC: 'XURC',
  CR: 'XLMH',
  IR: 'XLMH',
  AR: 'XLMH',
  MAV: 'XNALP',
  MAC: 'XLH',
  MPR: 'XNLH',
  MUI: 'XNR',
  MS: 'XUC',
  MC: 'XNLH',
  MI: 'XNLH',
  MA: 'XNLH',
};

/** The spec's Roundup: the smallest one-decimal number >= x, immune to float error (3.1 App. A). */
export function roundup(x: number): number {
  const i = Math.round(x * 100_000);
  return i % 10_000 === 0 ? i / 100_000 : (Math.floor(i / 10_000) + 1) / 10;
}

/** The base score of a `CVSS:3.x/...` vector, or undefined when the vector is not valid. */
export function cvss3(vector: string): Cvss3 | undefined {
  const parts = vector.trim().split('/');
  const version = /^CVSS:(3\.[01])$/.exec(parts.shift() ?? '')?.[1] as Cvss3['version'] | undefined;
  if (!version) return undefined;
  const m = new Map<string, string>();
  for (const part of parts) {
    const [key, value, extra] = part.split(':');
    if (!key || !value || extra !== undefined || m.has(key)) return undefined; // malformed or repeated
    const base = (BASE as Record<string, Record<string, number>>)[key];
    if (base ? !(value in base) : !OTHER[key]?.includes(value) || value.length !== 1) return undefined;
    m.set(key, value);
  }
  const w = (key: keyof typeof BASE): number | undefined => {
    const v = m.get(key);
    return v === undefined ? undefined : (BASE[key] as Record<string, number>)[v];
  };
  const [av, ac, pr, ui, c, i, a] = [w('AV'), w('AC'), w('PR'), w('UI'), w('C'), w('I'), w('A')];
  const scope = m.get('S');
  if (av === undefined || ac === undefined || pr === undefined || ui === undefined || scope === undefined)
    return undefined;
  if (c === undefined || i === undefined || a === undefined) return undefined;
  const changed = scope === 'C';
  // Privileges Required weighs more when the scope changes (spec §7.4).
  const prWeight = changed && m.get('PR') === 'L' ? 0.68 : changed && m.get('PR') === 'H' ? 0.5 : pr;
  const iss = 1 - (1 - c) * (1 - i) * (1 - a);
  const impact = changed ? 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 : 6.42 * iss;
  const exploitability = 8.22 * av * ac * prWeight * ui;
  let score = 0;
  if (impact > 0) score = roundup(Math.min((changed ? 1.08 : 1) * (impact + exploitability), 10));
  return { version, vector: vector.trim(), score };
}
