import { parse as parseCsv } from 'csv-parse/sync';
import { stringify as csvLine } from 'csv-stringify/sync';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CaptionAnswer, FileProblem } from './captioner';
import { OutputFormat } from './cli-options';

/** One output record: the image's caption(s), or the problem that stopped it. */
export interface CaptionRecord {
  path: string;
  attempts: number;
  answer?: CaptionAnswer;
  problem?: FileProblem;
}

export const CSV_COLUMNS = [
  'path',
  'caption',
  'confidence',
  'captions',
  'total_ms',
  'cached',
  'attempts',
  'status',
  'code',
  'detail',
] as const;

/** A JSON line: path, then the service's answer as it came (caption(s), confidence, timings...). */
export function jsonLine(record: CaptionRecord): string {
  const body = record.answer
    ? { path: record.path, ...record.answer, attempts: record.attempts }
    : { path: record.path, error: record.problem, attempts: record.attempts };
  return `${JSON.stringify(body)}\n`;
}

export function csvHeader(): string {
  return csvLine([[...CSV_COLUMNS]]);
}

/** A CSV row (csv-stringify quotes commas, quotes and newlines in captions). */
export function csvRow(record: CaptionRecord): string {
  const a = record.answer;
  const p = record.problem;
  const row: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | undefined> = {
    path: record.path,
    caption: a?.caption,
    confidence: a?.confidence,
    // ranked alternatives, when the service returns several
    captions: a?.captions ? a.captions.map((c) => c.caption).join(' | ') : undefined,
    total_ms: a?.timings_ms?.total,
    cached: a?.cached === undefined ? undefined : String(a.cached),
    attempts: record.attempts,
    status: p ? p.status : 200,
    code: p?.code,
    detail: p?.detail,
  };
  return csvLine([CSV_COLUMNS.map((c) => row[c] ?? '')]);
}

export function formatRecord(format: OutputFormat, record: CaptionRecord): string {
  return format === 'csv' ? csvRow(record) : jsonLine(record);
}

/**
 * The images an earlier run already captioned into `file` (absolute paths). Lines that failed
 * are not counted, so a resumed run tries them again; a line cut short by an interrupted run
 * is ignored.
 */
export function captionedIn(file: string, format: OutputFormat): Set<string> {
  const done = new Set<string>();
  if (!existsSync(file)) return done;
  const text = readFileSync(file, 'utf8');
  if (format === 'csv') {
    const rows = parseCsv(text, {
      columns: true,
      skip_empty_lines: true,
      relax_column_count: true,
    }) as Record<string, string>[];
    for (const row of rows) {
      if (row.path && row.caption && !row.code) done.add(resolve(row.path));
    }
    return done;
  }
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as { path?: unknown; caption?: unknown; error?: unknown };
      if (typeof record.path === 'string' && typeof record.caption === 'string' && !record.error) {
        done.add(resolve(record.path));
      }
    } catch {
      // the last line of a run that was killed mid-write
    }
  }
  return done;
}
