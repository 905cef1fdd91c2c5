/**
 * Child process of the transformers.js peer: loads the `image-to-text` pipeline from the local
 * model folder (remote models off), captions the images one at a time for each requested beam
 * count, and prints one JSON line (prefixed RESULT) with latencies, captions and peak RSS.
 * Run by transformers-js.ts; not a module to import.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

interface ChildArgs {
  modelDir: string;
  dtype: 'q8' | 'fp32';
  images: string[];
  count: number;
  beams: number[];
  newTokens: number;
}

async function main(): Promise<void> {
  // Load time counts from here: ts-node's own start-up before this line is not the library's.
  const started = performance.now();
  const args = JSON.parse(process.env.BENCH_TJS_ARGS ?? '') as ChildArgs;
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(args.modelDir);
  const captioner = await pipeline('image-to-text', basename(args.modelDir), {
    dtype: args.dtype,
  });
  process.stdout.write(`READY ${(performance.now() - started) / 1000}\n`);
  const runs: Record<string, { seconds: number[]; captions: Record<string, string> }> = {};
  for (const beams of args.beams) {
    const options = {
      max_new_tokens: args.newTokens,
      min_new_tokens: args.newTokens,
      num_beams: beams,
    };
    const caption = async (path: string) => {
      const out = (await captioner(path, options)) as { generated_text: string }[];
      return out[0].generated_text;
    };
    for (const path of args.images.slice(0, 2)) await caption(path); // warm-up
    const seconds: number[] = [];
    const captions: Record<string, string> = {};
    for (let i = 0; i < args.count; i++) {
      const path = args.images[i % args.images.length];
      const started = performance.now();
      captions[basename(path)] = await caption(path);
      seconds.push((performance.now() - started) / 1000);
    }
    runs[String(beams)] = { seconds, captions };
  }
  const status = readFileSync('/proc/self/status', 'utf8');
  const peakRssMb = Number(status.match(/^VmHWM:\s+(\d+) kB$/m)?.[1]) / 1024;
  process.stdout.write(`RESULT ${JSON.stringify({ runs, peakRssMb })}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`transformers.js peer failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
