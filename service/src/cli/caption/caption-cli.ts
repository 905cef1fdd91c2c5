/**
 * npx caption [options] <files or folders...>   (also: npm run caption -- ...)
 * Captions folders of images against a running service (--url) or in this process on a model
 * folder (--model-dir), one JSON line (or CSV row) per image. See USAGE in cli-options.ts.
 */
import { LoggerService } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { loadConfig } from '../../config/app-config';
import { ConfigError } from '../../config/environment';
import { CaptionRecord, captionedIn, csvHeader, formatRecord } from './caption-output';
import { captionFiles } from './caption-runner';
import { ProblemError } from '../../common/problem/problem.error';
import { Captioner, CaptionerUnavailableError } from './captioner';
import { CliOptions, USAGE, UsageError, parseCliOptions } from './cli-options';
import { HttpCaptioner } from './http-captioner';
import { findImages } from './image-files';

export interface CliIo {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Aborts the run (the bin wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  /** Tests shorten the waits between retries; the waits computed are unchanged. */
  wait?: (seconds: number, signal?: AbortSignal) => Promise<void>;
}

/** Runs the CLI and returns its exit status: 0 all captioned, 1 some failed, 2 bad usage. */
export async function runCaptionCli(argv: string[], io: CliIo): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  let options: CliOptions;
  let files: string[];
  try {
    const parsed = parseCliOptions(argv);
    if (parsed === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    options = parsed;
    files = await findImages(options.inputs);
    if (files.length === 0) throw new UsageError(`no images under ${options.inputs.join(', ')}`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    say(`caption: ${error.message}\nRun with --help for the options.`);
    return 2;
  }

  if (options.resume) {
    const done = captionedIn(options.out!, options.format);
    const before = files.length;
    files = files.filter((f) => !done.has(resolve(f)));
    if (!options.quiet) {
      say(`resuming: ${before - files.length} already captioned in ${options.out}`);
    }
    if (files.length === 0) return 0;
  }

  let captioner: Captioner;
  try {
    captioner = await makeCaptioner(options, io);
  } catch (error) {
    // A bad setting, or decoding options the service would refuse (checked once, up front).
    if (!(error instanceof ConfigError || error instanceof ProblemError)) throw error;
    say(`caption: ${error.message}`);
    return 2;
  }
  try {
    if (options.modelDir && !options.quiet) say(`loading the model from ${options.modelDir}`);
    await captioner.open();
  } catch (error) {
    if (!(error instanceof CaptionerUnavailableError)) throw error;
    say(`caption: ${error.message}`);
    await captioner.close();
    return 1;
  }

  const out = openOutput(options, io);
  const progress =
    io.stderr.isTTY && !options.quiet ? progressBar(io.stderr, files.length) : undefined;
  const started = performance.now();
  let totals;
  try {
    totals = await captionFiles(
      files,
      captioner,
      { concurrency: options.concurrency, retries: options.retries },
      {
        signal: io.signal,
        wait: io.wait,
        onRecord: async (record: CaptionRecord) => {
          if (!out.write(formatRecord(options.format, record))) {
            await new Promise((r) => out.once('drain', r));
          }
          progress?.increment(1, { failed: record.problem ? 1 : 0 });
        },
      },
    );
  } finally {
    progress?.stop();
    await captioner.close();
    if (out !== io.stdout) {
      out.end();
      await finished(out);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (!options.quiet) {
    const done = totals.captioned + totals.failed;
    say(
      `${io.signal?.aborted ? 'interrupted: ' : ''}captioned ${totals.captioned} of ${files.length} images` +
        ` (${totals.failed} failed, ${totals.retries} retries) in ${seconds.toFixed(1)} s: ` +
        `${(done / seconds).toFixed(2)} images/s`,
    );
  }
  if (io.signal?.aborted) return 130;
  return totals.failed > 0 ? 1 : 0;
}

async function makeCaptioner(options: CliOptions, io: CliIo): Promise<Captioner> {
  if (options.url) return new HttpCaptioner(options.url, options.options, options.timeoutMs);
  // The service's own settings (MODEL_DTYPE, ENGINE_*, CACHE_MAX_ENTRIES...) apply in process.
  const config = loadConfig({ ...io.env, MODEL_DIR: options.modelDir });
  // Loaded only here: the whole Nest app is seconds of module loading that --url never needs.
  const { InProcessCaptioner } = await import('./in-process-captioner');
  return new InProcessCaptioner(config, options.options, stderrLogger(io.stderr));
}

/** stdout or --out; --resume appends (a CSV header only to a new or empty file). */
function openOutput(options: CliOptions, io: CliIo): Writable {
  if (!options.out) {
    if (options.format === 'csv') io.stdout.write(csvHeader());
    return io.stdout;
  }
  const appending = options.resume && existsSync(options.out) && statSync(options.out).size > 0;
  const stream = createWriteStream(options.out, { flags: appending ? 'a' : 'w' });
  if (options.format === 'csv' && !appending) stream.write(csvHeader());
  return stream;
}

function progressBar(stream: Writable & { isTTY?: boolean }, total: number) {
  // cli-progress computes the ETA from a moving window of recent rates.
  const bar = new SingleBar({
    stream: stream as NodeJS.WritableStream,
    format: 'captioning {bar} {value}/{total} | {rate}/s | ETA {eta_formatted} | {failures} failed',
    etaBuffer: 30,
    hideCursor: true,
    clearOnComplete: false,
  });
  const started = performance.now();
  let failures = 0;
  let done = 0;
  bar.start(total, 0, { rate: '0.00', failures });
  return {
    increment(by: number, { failed }: { failed: number }) {
      failures += failed;
      done += by;
      const rate = (done / ((performance.now() - started) / 1000)).toFixed(2);
      bar.increment(by, { rate, failures });
    },
    stop: () => bar.stop(),
  };
}

/** Nest's log lines go to stderr (stdout carries the results): warnings and errors only. */
function stderrLogger(stderr: Writable): LoggerService {
  const write = (level: string, message: unknown) =>
    stderr.write(`caption: ${level}: ${String(message)}\n`);
  return {
    log: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
    warn: (message: unknown) => write('warning', message),
    error: (message: unknown) => write('error', message),
    fatal: (message: unknown) => write('error', message),
  };
}

/** The bin's entry: real streams, signals abort the run, the exit status is the process's. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    process.exitCode = await runCaptionCli(argv, {
      stdout: process.stdout,
      stderr: process.stderr,
      env: process.env,
      signal: abort.signal,
    });
  } catch (error) {
    process.stderr.write(`caption: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
