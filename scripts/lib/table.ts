// Shared by demo and bench. Owns: how figures look on stdout: aligned text tables and the units
// (MB = 10^6 bytes, MB/s = 10^6 bytes per second, RSS in MiB as GNU time reports KiB).

export type Cell = string | number | undefined;

/** Renders rows under a header; numbers and figure-like strings are right-aligned. */
export function table(header: string[], rows: Cell[][], opts: { indent?: string } = {}): string {
  const text = rows.map((r) => header.map((_, i) => cellText(r[i])));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === undefined || typeof r[i] === 'number' || /^[-+~]?[\d.,]+\s*\S*$|^[—-]$/.test(String(r[i]))));
  const line = (cells: string[]) =>
    (opts.indent ?? '') +
    cells
      .map((c, i) => (numeric[i] && i > 0 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const rule = (opts.indent ?? '') + widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...text.map(line)].join('\n') + '\n';
}

function cellText(c: Cell): string {
  if (c === undefined) return '—';
  if (typeof c === 'number') return c.toLocaleString('en-US');
  return c;
}

/** Bytes with thousands separators (exact figures for tables a reader may compare). */
export function bytes(n: number | undefined): string {
  return n === undefined ? '—' : n.toLocaleString('en-US');
}

/** Bytes in MB (10^6), three significant decimals for small values. */
export function mb(n: number | undefined): string {
  if (n === undefined) return '—';
  const v = n / 1e6;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toFixed(3)} MB`;
}

export function seconds(s: number | undefined): string {
  return s === undefined ? '—' : s < 10 ? s.toFixed(2) : s.toFixed(1);
}

export function rate(bytesCount: number, secs: number | undefined): string {
  if (!secs) return '—';
  const v = bytesCount / 1e6 / secs;
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '—';
  const r = a / b;
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.01 ? r.toFixed(2) : r.toExponential(1);
}

export function rssMiB(kb: number | undefined): string {
  return kb === undefined ? '—' : `${(kb / 1024).toFixed(0)} MiB`;
}

export function percent(part: number | undefined, whole: number | undefined): string {
  if (part === undefined || !whole) return '—';
  return `${((100 * part) / whole).toFixed(1)}%`;
}
