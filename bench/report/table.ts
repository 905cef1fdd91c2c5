/** Plain-text tables: first column left-aligned, the rest right-aligned. */
export function renderTable(rows: string[][]): string {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    Math.max(...rows.map((r) => (r[i] ?? '').length)),
  );
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A number with fixed digits, or "-" when it was not measured. */
export function fixed(value: number | undefined | null, digits: number): string {
  // null: a NaN that went through results.json
  return value === undefined || value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

export function ratio(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? '-' : `${value.toFixed(digits)}x`;
}

export type Verdict = 'MET' | 'NOT MET' | 'NOT MEASURED';

export function verdict(ok: boolean | undefined): Verdict {
  return ok === undefined ? 'NOT MEASURED' : ok ? 'MET' : 'NOT MET';
}
