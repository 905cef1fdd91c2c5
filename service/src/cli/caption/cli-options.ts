import { parseArgs } from 'node:util';

export const USAGE = `usage: npx caption [options] <files or folders...>
       npm run caption -- [options] <files or folders...>

Captions every image under the given files and folders (folders are searched recursively for
.jpg .jpeg .png .webp .gif .tif .tiff .avif) and writes one line per image.

Where the captions come from (exactly one):
  --url URL              a running caption service, e.g. http://localhost:3000
  --model-dir DIR        in this process, on a local model folder (the service's pipeline, no HTTP;
                         MODEL_DTYPE, ENGINE_*, CACHE_MAX_ENTRIES, DEFAULT_NUM_BEAMS apply)

Output:
  --format jsonl|csv     one JSON object per line (default) or CSV with a header
  --out FILE             write to FILE instead of stdout
  --resume               skip images already captioned in --out (failed ones are tried again)

Requests:
  -O, --option NAME=VAL  a decoding option, repeatable (e.g. -O num_beams=1 -O max_new_tokens=20)
  --concurrency N        images in flight at once (default 4)
  --retries N            retries of one image on 429 (after Retry-After), 503 or a lost
                         connection (default 5)
  --timeout SECONDS      per request to --url (default 120)
  --quiet                no progress bar or summary on stderr
  -h, --help             this text

Exit status: 0 every image captioned, 1 some failed, 2 bad usage.`;

export type OutputFormat = 'jsonl' | 'csv';

export interface CliOptions {
  inputs: string[];
  url?: string;
  modelDir?: string;
  format: OutputFormat;
  out?: string;
  resume: boolean;
  options: Record<string, string>;
  concurrency: number;
  retries: number;
  timeoutMs: number;
  quiet: boolean;
}

/** Bad arguments: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export function parseCliOptions(argv: string[]): CliOptions | 'help' {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    // parseArgs names the unknown or malformed option in its message.
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('give at least one file or folder');
  if ((values.url === undefined) === (values['model-dir'] === undefined)) {
    throw new UsageError(
      'give exactly one of --url (a running service) or --model-dir (in process)',
    );
  }
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'csv') {
    throw new UsageError(`--format must be jsonl or csv (got ${format})`);
  }
  if (values.resume && !values.out) throw new UsageError('--resume needs --out FILE to read');
  return {
    inputs: positionals,
    url: values.url === undefined ? undefined : serviceUrl(values.url),
    modelDir: values['model-dir'],
    format,
    out: values.out,
    resume: values.resume ?? false,
    options: decodingOptions(values.option ?? []),
    concurrency: count('--concurrency', values.concurrency, 4, 1, 256),
    retries: count('--retries', values.retries, 5, 0, 100),
    timeoutMs: count('--timeout', values.timeout, 120, 1, 3600) * 1000,
    quiet: values.quiet ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      'model-dir': { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean' },
      option: { type: 'string', short: 'O', multiple: true },
      concurrency: { type: 'string' },
      retries: { type: 'string' },
      timeout: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function serviceUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `--url must be an http(s) URL such as http://localhost:3000 (got ${value})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--url must be http or https (got ${url.protocol})`);
  }
  return url.href.replace(/\/+$/, '');
}

/** NAME=VALUE pairs; the service validates names and values, as it does for any client. */
function decodingOptions(pairs: string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([a-z_]+)=(.+)$/.exec(pair);
    if (!match) throw new UsageError(`--option wants NAME=VALUE, e.g. num_beams=1 (got ${pair})`);
    options[match[1]] = match[2];
  }
  return options;
}

function count(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max} (got ${value})`);
  }
  return n;
}
