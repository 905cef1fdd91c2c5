/**
 * transformers.js (the `image-to-text` pipeline, @huggingface/transformers) as a third peer: a
 * library, not a server, so it runs in a child process of its own (its memory and start-up
 * measured alone) captioning one image at a time, as its pipeline does.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Latency, latencyOf } from '../http/load';
import { log, track } from '../processes';
import { DURATIONS, NEW_TOKENS } from '../settings';

export interface TransformersJsResult {
  name: string;
  dtype: 'q8' | 'fp32';
  /** Import of the library to the pipeline loaded, in its process (Node's start-up not counted). */
  coldStartSeconds: number;
  peakRssMb: number;
  greedy: Latency;
  /** `num_beams: 4` passed to the pipeline, whatever it does with it. */
  beams4?: Latency;
  /** Images whose `num_beams: 4` caption equals the greedy one, of those captioned both ways. */
  beams4SameAsGreedy?: { same: number; of: number };
}

interface ChildOutput {
  runs: Record<string, { seconds: number[]; captions: Record<string, string> }>;
  peakRssMb: number;
}

export async function benchTransformersJs(
  modelDir: string,
  imagePaths: string[],
  dtype: 'q8' | 'fp32',
  beams: number[],
): Promise<TransformersJsResult> {
  log(`transformers.js ${dtype}: beams ${beams.join(', ')}`);
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'transformers-js.child.ts')],
    {
      env: {
        ...process.env,
        BENCH_TJS_ARGS: JSON.stringify({
          modelDir,
          dtype,
          images: imagePaths,
          count: DURATIONS.singleStream.transformersJs,
          beams,
          newTokens: NEW_TOKENS,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  track(child);
  let coldStartSeconds = NaN;
  let output: ChildOutput | undefined;
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith('READY ')) coldStartSeconds = Number(line.slice(6));
      if (line.startsWith('RESULT ')) output = JSON.parse(line.slice(7)) as ChildOutput;
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !output) throw new Error(`transformers.js child exited with ${code}`);
  const greedy = output.runs['1'];
  const four = output.runs['4'];
  const result: TransformersJsResult = {
    name: `transformers.js ${dtype}`,
    dtype,
    coldStartSeconds,
    peakRssMb: output.peakRssMb,
    greedy: latencyOf(greedy.seconds),
  };
  if (four) {
    result.beams4 = latencyOf(four.seconds);
    const names = Object.keys(four.captions).filter((n) => n in greedy.captions);
    result.beams4SameAsGreedy = {
      same: names.filter((n) => four.captions[n] === greedy.captions[n]).length,
      of: names.length,
    };
  }
  log(
    `${result.name}: greedy p50 ${result.greedy.p50.toFixed(3)} s` +
      (result.beams4
        ? `, num_beams 4 p50 ${result.beams4.p50.toFixed(3)} s, same caption as greedy ` +
          `${result.beams4SameAsGreedy!.same}/${result.beams4SameAsGreedy!.of}`
        : ''),
  );
  return result;
}
