import { parse } from 'csv-parse/sync';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CaptionRecord, captionedIn, csvHeader, csvRow, jsonLine } from './caption-output';

const good: CaptionRecord = {
  path: 'photos/a.jpg',
  attempts: 2,
  answer: {
    caption: 'a dog, "happy"',
    confidence: 0.42,
    captions: [
      { caption: 'a dog, "happy"', confidence: 0.42 },
      { caption: 'a cat', confidence: 0.2 },
    ],
    timings_ms: { total: 251 },
    cached: false,
  },
};
const bad: CaptionRecord = {
  path: 'photos/b.svg',
  attempts: 1,
  problem: { status: 415, code: 'unsupported_media_type', detail: 'SVG is not accepted' },
};

describe('caption output', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'caption-output-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one JSON line per image: the answer as it came, or the problem', () => {
    expect(JSON.parse(jsonLine(good))).toEqual({
      path: 'photos/a.jpg',
      ...good.answer,
      attempts: 2,
    });
    expect(JSON.parse(jsonLine(bad))).toEqual({
      path: 'photos/b.svg',
      error: bad.problem,
      attempts: 1,
    });
    expect(jsonLine(good).endsWith('}\n')).toBe(true);
  });

  it('writes CSV that a CSV reader reads back, quotes and commas included', () => {
    const rows = parse(csvHeader() + csvRow(good) + csvRow(bad), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows).toEqual([
      expect.objectContaining({
        path: 'photos/a.jpg',
        caption: 'a dog, "happy"',
        confidence: '0.42',
        captions: 'a dog, "happy" | a cat',
        total_ms: '251',
        status: '200',
        code: '',
      }),
      expect.objectContaining({
        path: 'photos/b.svg',
        caption: '',
        status: '415',
        code: 'unsupported_media_type',
      }),
    ]);
  });

  it.each(['jsonl', 'csv'] as const)(
    'resumes %s: skips what was captioned, not what failed nor a line cut short',
    (format) => {
      const file = join(dir, `out.${format}`);
      const text =
        format === 'csv'
          ? csvHeader() + csvRow(good) + csvRow(bad)
          : jsonLine(good) + jsonLine(bad) + '{"path":"photos/c.jpg","capt';
      writeFileSync(file, text);
      expect([...captionedIn(file, format)]).toEqual([resolve('photos/a.jpg')]);
      expect(captionedIn(join(dir, 'missing'), format).size).toBe(0);
    },
  );
});
