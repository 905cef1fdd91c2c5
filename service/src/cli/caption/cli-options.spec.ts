import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, parseCliOptions } from './cli-options';
import { findImages } from './image-files';

describe('parseCliOptions', () => {
  it('reads a full command line', () => {
    expect(
      parseCliOptions([
        '--url',
        'http://localhost:3000/',
        '-O',
        'num_beams=1',
        '--option',
        'max_new_tokens=20',
        '--format',
        'csv',
        '--out',
        'out.csv',
        '--resume',
        '--concurrency',
        '8',
        'photos',
        'one.jpg',
      ]),
    ).toEqual({
      inputs: ['photos', 'one.jpg'],
      url: 'http://localhost:3000',
      modelDir: undefined,
      format: 'csv',
      out: 'out.csv',
      resume: true,
      options: { num_beams: '1', max_new_tokens: '20' },
      concurrency: 8,
      retries: 5,
      timeoutMs: 120_000,
      quiet: false,
    });
  });

  it.each([
    [[], /at least one file or folder/],
    [['a.jpg'], /exactly one of --url .* or --model-dir/],
    [['--url', 'http://x', '--model-dir', 'm', 'a.jpg'], /exactly one of/],
    [['--url', 'ftp://x', 'a.jpg'], /--url must be http or https/],
    [['--url', 'not a url', 'a.jpg'], /--url must be an http\(s\) URL/],
    [['--url', 'http://x', '--format', 'xml', 'a.jpg'], /--format must be jsonl or csv/],
    [['--url', 'http://x', '--resume', 'a.jpg'], /--resume needs --out/],
    [
      ['--url', 'http://x', '--concurrency', '0', 'a.jpg'],
      /--concurrency must be a whole number from 1/,
    ],
    [['--url', 'http://x', '--retries', 'many', 'a.jpg'], /--retries must be a whole number/],
    [['--url', 'http://x', '-O', 'num_beams', 'a.jpg'], /--option wants NAME=VALUE/],
    [['--url', 'http://x', '--colour', 'a.jpg'], /Unknown option '--colour'/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCliOptions(argv)).toThrow(UsageError);
    expect(() => parseCliOptions(argv)).toThrow(message);
  });

  it('answers --help', () => {
    expect(parseCliOptions(['--help'])).toBe('help');
  });
});

describe('findImages', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'find-images-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('searches folders recursively by image type, in name order, following links once', async () => {
    mkdirSync(join(dir, 'b', 'deeper'), { recursive: true });
    for (const name of ['a.JPG', 'notes.txt', 'b/z.png', 'b/deeper/c.webp', 'b/readme.md']) {
      writeFileSync(join(dir, name), 'x');
    }
    symlinkSync(join(dir, 'a.JPG'), join(dir, 'b', 'link.jpeg'));
    symlinkSync(dir, join(dir, 'b', 'loop')); // a folder link back up: searched once
    symlinkSync(join(dir, 'gone.jpg'), join(dir, 'dangling.jpg'));
    expect(await findImages([dir])).toEqual([
      join(dir, 'a.JPG'),
      join(dir, 'b', 'deeper', 'c.webp'),
      join(dir, 'b', 'link.jpeg'),
      join(dir, 'b', 'z.png'),
    ]);
  });

  it('takes a file named on the command line whatever its name, once', async () => {
    writeFileSync(join(dir, 'scan.bin'), 'x');
    expect(await findImages([join(dir, 'scan.bin'), join(dir, 'scan.bin')])).toEqual([
      join(dir, 'scan.bin'),
    ]);
  });

  it('calls a path that does not exist bad usage', async () => {
    await expect(findImages([join(dir, 'nope')])).rejects.toThrow(UsageError);
  });
});
