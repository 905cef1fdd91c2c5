/** Our service, built (dist/main.js) and started as a process with a mode's environment. */
import { join } from 'node:path';
import { ImageFile, OpenLoopResult, Target, openLoop, singleStream } from '../http/load';
import { log, peakRssMb, startAndWait, stop } from '../processes';
import { DURATIONS, NEW_TOKENS, PORT_BASE, ROOT } from '../settings';
import { HttpSystemResult, loadProfile } from './http-system';

export function ourTarget(name: string, port: number): Target {
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    livenessPath: '/health/live',
    captionRequest: (image, beams) => ({
      method: 'POST',
      path: `/caption?num_beams=${beams}&min_new_tokens=${NEW_TOKENS}&max_new_tokens=${NEW_TOKENS}`,
      headers: { 'content-type': image.type },
      body: image.bytes,
    }),
  };
}

/**
 * The service with `environment` on top of its defaults. The response cache is off so every
 * request is computed (the same four images repeat); logs at warn keep stderr readable.
 */
export function startOurs(modelDir: string, port: number, environment: Record<string, string>) {
  return startAndWait(
    process.execPath,
    [join(ROOT, 'dist', 'main.js')],
    {
      MODEL_DIR: modelDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      CACHE_MAX_ENTRIES: '0',
      LOG_LEVEL: 'warn',
      ...environment,
    },
    `http://127.0.0.1:${port}/health/ready`,
  );
}

async function servedDtype(target: Target, image: ImageFile): Promise<string> {
  const req = target.captionRequest(image, 1);
  const response = await fetch(target.baseUrl + req.path, {
    method: 'POST',
    headers: req.headers,
    body: req.body,
  });
  const body = (await response.json()) as { model?: { dtype?: string } };
  return body.model?.dtype ?? 'unknown';
}

export async function benchOurs(
  name: string,
  environment: Record<string, string>,
  modelDir: string,
  images: ImageFile[],
  portOffset = 10,
): Promise<HttpSystemResult> {
  const port = PORT_BASE + portOffset;
  log(`starting our service (${name}: ${JSON.stringify(environment)})`);
  const started = await startOurs(modelDir, port, environment);
  try {
    const target = ourTarget(name, port);
    const dtype = await servedDtype(target, images[0]);
    await singleStream(target, images, 4, 3); // warm-up
    const beams4 = await singleStream(target, images, 4, DURATIONS.singleStream.ours);
    const greedy = await singleStream(target, images, 1, DURATIONS.singleStream.ours);
    log(`${name}: 4 beams p50 ${beams4.p50.toFixed(3)} s, greedy p50 ${greedy.p50.toFixed(3)} s`);
    const profile = await loadProfile(
      target,
      images,
      {
        closed: DURATIONS.closedLoopSeconds.ours,
        open: DURATIONS.openLoopSeconds.ours,
      },
      beams4.p50,
    );
    // 4x overload: evenly spaced arrivals at four times the capacity; every request followed
    // to its answer (a caption, or an immediate 429), none may be lost.
    const overload: OpenLoopResult = await openLoop(target, images, 4, {
      rate: 4 * profile.capacity,
      seconds: DURATIONS.closedLoopSeconds.ours,
      arrivals: 'uniform',
    });
    log(
      `${name}: 4x overload (${overload.offeredRate.toFixed(1)}/s, ${overload.sent} sent): ` +
        `statuses ${JSON.stringify(overload.statuses)}, socket errors ${overload.socketErrors}`,
    );
    return {
      name,
      detail: `dtype ${dtype}, environment ${JSON.stringify(environment)}`,
      coldStartSeconds: started.coldStartSeconds,
      peakRssMb: peakRssMb(started.child.pid!),
      single: { beams4, greedy },
      ...profile,
      overload,
    };
  } finally {
    await stop(started.child);
  }
}
