/**
 * npm run bench:stress: issue 9's stress benchmark. Our service on the full-size random model
 * with the production pod's settings (environment, CPU and the 2 GiB memory limit, imposed with
 * a cgroup when this machine allows it) takes the issue's burst at once: 80 legal heavy PNGs,
 * decode-time bombs, uploads at 1 byte/s and uploads that stop one byte short, while a small
 * normal caption is sent every 2 s and /health/live is polled. Prints memory, statuses, times
 * and each target of the issue met or not. BENCH_QUICK=1 sends a smaller burst.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment } from '../engine-api';
import { probeLiveness } from '../http/load';
import { modelDirFor } from '../model-files';
import { Started, log, peakRssMb, rssMb, sampleRss, startAndWait, stop } from '../processes';
import { BENCH_DIR, PORT_BASE, ROOT, SHARED } from '../settings';
import { createMemoryCage, limitVisibleAtStandardPaths } from './memory-cage';
import { quantity, readPodSettings } from './pod-settings';
import { Outcome, Upload, send } from './stress-client';
import { distinctCopy, stressImages } from './stress-images';
import { PLAN, SMALL_EVERY_SECONDS, burstUploads } from './stress-plan';
import { StressResult, serviceSettings, stressReport } from './stress-report';

async function main(): Promise<void> {
  const pod = readPodSettings();
  const modelDir = modelDirFor(0);
  const port = PORT_BASE + 50;
  const environment: Record<string, string> = {
    ...pod.environment,
    MODEL_DIR: modelDir,
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const settings = serviceSettings(parseEnvironment(environment));
  const images = await stressImages(join(BENCH_DIR, 'stress'));
  // Each small caption is a distinct copy, so the response cache cannot answer it.
  const photo = readFileSync(join(SHARED, 'images', 'china.jpg'));
  let smallCount = 0;
  const small = (): Upload => ({
    group: 'small normal caption',
    body: distinctCopy(photo, `small-${smallCount++}-${process.pid}`),
    contentType: 'image/jpeg',
    pace: 'whole',
  });
  const uploads = burstUploads(images, readFileSync(join(SHARED, 'images', 'coffee.png')));

  // BENCH_STRESS_MEMORY_LIMIT (a quantity, e.g. 10Gi, or none) replaces the pod's limit, to see
  // how much the service would take; the targets are still judged against the pod's limit.
  const override = process.env.BENCH_STRESS_MEMORY_LIMIT;
  const cage = createMemoryCage(
    override && override !== 'none' ? quantity(override) : pod.memoryLimitBytes,
    override === 'none',
  );
  log(
    cage.kind === 'none'
      ? `memory limit NOT imposed: ${cage.reason}`
      : `memory limit ${(cage.limitBytes / 2 ** 30).toFixed(2)} GiB imposed with a ${cage.kind} (${cage.path})`,
  );
  // Fewer CPUs than the machine has: pin the service to that many (it reads its affinity).
  const pin =
    pod.cpuLimit < cpus().length ? ['taskset', '-c', `0-${Math.ceil(pod.cpuLimit) - 1}`] : [];
  const command = cage.wrap(pin[0] ?? process.execPath, [
    ...pin.slice(1),
    ...(pin.length ? [process.execPath] : []),
    join(ROOT, 'dist', 'main.js'),
  ]);
  let result: StressResult | undefined;
  let service: Started | undefined;
  try {
    log(`starting the service with the pod's environment: ${JSON.stringify(pod.environment)}`);
    service = await startAndWait(
      command.cmd,
      command.args,
      environment,
      `http://127.0.0.1:${port}/health/ready`,
      300,
    );
    const pid = service.child.pid!;
    const t = performance.now();
    const idle: Outcome[] = [];
    for (let i = 0; i < 4; i++) idle.push(await send(port, small(), t, 60));
    await new Promise((r) => setTimeout(r, 2000));
    const idleRssMb = rssMb(pid);
    log(
      `idle: RSS ${idleRssMb.toFixed(0)} MB, small caption ${idle.map((o) => o.seconds.toFixed(2)).join(', ')} s`,
    );

    const rss = sampleRss(pid);
    const liveness = probeLiveness({
      name: 'ours',
      baseUrl: `http://127.0.0.1:${port}`,
      livenessPath: '/health/live',
      captionRequest: () => {
        throw new Error('unused');
      },
    });
    log(`burst: ${uploads.length} uploads at once (${JSON.stringify(PLAN)})`);
    const t0 = performance.now();
    const pending = uploads.map((u) => send(port, u, t0, PLAN.capSeconds));
    const smalls: Promise<Outcome>[] = [];
    const ticker = setInterval(
      () => smalls.push(send(port, small(), t0, PLAN.capSeconds)),
      SMALL_EVERY_SECONDS * 1000,
    );
    const firm = pending.filter((_, i) => uploads[i].pace === 'whole');
    await Promise.all(firm);
    clearInterval(ticker);
    const outcomes = [...(await Promise.all(pending)), ...(await Promise.all(smalls))];
    const burstSeconds = (performance.now() - t0) / 1000;
    const livenessMs = await liveness.stop();
    await new Promise((r) => setTimeout(r, 5000));
    const samples = rss.stop();
    const alive = service.exit === undefined;
    const afterRssMb = alive ? rssMb(pid) : NaN;
    const after = alive ? await send(port, small(), performance.now(), 60) : undefined;
    log(`burst over in ${burstSeconds.toFixed(1)} s; service ${alive ? 'alive' : 'GONE'}`);
    result = {
      plan: PLAN,
      pod,
      settings,
      cage: { kind: cage.kind, limitBytes: cage.limitBytes, reason: cage.reason },
      limitSeenByService: limitVisibleAtStandardPaths(),
      idleRssMb,
      idleSmallSeconds: idle.map((o) => o.seconds),
      // The kernel's high-water mark also catches a spike between two samples.
      peakRssMb: Math.max(...samples.map((s) => s.mb), alive ? peakRssMb(pid) : 0),
      afterRssMb,
      outcomes,
      livenessMs,
      burstSeconds,
      alive,
      afterCaption: after,
      exit: service.exit && {
        code: service.exit.code,
        signal: service.exit.signal,
        after: (service.exit.at - t0) / 1000,
      },
      cgroupPeakBytes: cage.peakBytes(),
      oomKills: cage.oomKills(),
    };
  } finally {
    if (service) await stop(service.child);
    if (result) {
      result.cgroupPeakBytes = cage.peakBytes();
      result.oomKills = cage.oomKills();
    }
    try {
      cage.dispose();
    } catch (error) {
      log(`could not remove ${cage.path}: ${(error as Error).message}`);
    }
  }
  if (!result) return;
  const report = stressReport(result);
  process.stdout.write(`\n${report}\n`);
  writeFileSync(join(BENCH_DIR, 'stress-results.json'), JSON.stringify(result, null, 2));
  writeFileSync(join(BENCH_DIR, 'stress-results.txt'), report + '\n');
}

main().catch((error: Error) => {
  process.stderr.write(`stress bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
