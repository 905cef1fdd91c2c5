/**
 * npm run bench:stress: issue 9's stress benchmark. Our service on the full-size random model
 * with the production pod's settings (environment, CPU and the 2 GiB memory limit, imposed with
 * a cgroup when this machine allows it) takes the issue's burst at once: 80 legal heavy PNGs,
 * decode-time bombs, uploads at 1 byte/s and uploads that stop one byte short, while a small
 * normal caption is sent every 2 s and /health/live is polled. Prints memory, statuses, times
 * and each target of the issue met or not. BENCH_QUICK=1 sends a smaller burst.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseEnvironment } from '../engine-api';
import { probeLivenessOffThread } from '../http/liveness-probe';
import { modelDirFor } from '../model-files';
import { Started, log, peakRssMb, rssMb, sampleRss, startAndWait, stop } from '../processes';
import { BENCH_DIR, PORT_BASE, ROOT, SHARED } from '../settings';
import { budgetSeenByService, createMemoryCage } from './memory-cage';
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
  // The image preloads jemalloc (Dockerfile); so does this run where Debian's libjemalloc2 is
  // installed, else the report says the service ran on glibc malloc.
  const jemalloc = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libjemalloc.so.2`;
  const hasJemalloc = existsSync(jemalloc);
  if (hasJemalloc) environment.LD_PRELOAD = jemalloc;
  const allocator = hasJemalloc
    ? 'jemalloc (preloaded, as in the image)'
    : 'glibc malloc (the image preloads jemalloc: apt-get install libjemalloc2 to run as it does)';
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
    const liveness = probeLivenessOffThread(`http://127.0.0.1:${port}/health/live`);
    await eventLoopDelayMaxMs(port); // a scrape resets prom-client's event-loop delay histogram
    log(`burst: ${uploads.length} uploads, the slow ones 0.5 s ahead (${JSON.stringify(PLAN)})`);
    const t0 = performance.now();
    // The 1 byte/s uploads go half a second ahead, so they hold intake slots as an attacker's
    // would: sent amid the burst they met a full intake, got 429 at once, and the body timeout
    // (408) was never exercised (first full run).
    const trickle = (u: (typeof uploads)[number]): boolean => u.pace === 'one-byte-per-second';
    const trickling = uploads.filter(trickle).map((u) => send(port, u, t0, PLAN.capSeconds));
    await new Promise((r) => setTimeout(r, 500));
    const rest = uploads.filter((u) => !trickle(u));
    const burst = rest.map((u) => send(port, u, t0, PLAN.capSeconds));
    const pending = [...trickling, ...burst];
    const smalls: Promise<Outcome>[] = [];
    const ticker = setInterval(
      () => smalls.push(send(port, small(), t0, PLAN.capSeconds)),
      SMALL_EVERY_SECONDS * 1000,
    );
    const firm = burst.filter((_, i) => rest[i].pace === 'whole');
    await Promise.all(firm);
    clearInterval(ticker);
    const outcomes = [...(await Promise.all(pending)), ...(await Promise.all(smalls))];
    const burstSeconds = (performance.now() - t0) / 1000;
    const livenessMs = await liveness.stop();
    const eventLoopMaxMs = await eventLoopDelayMaxMs(port);
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
      budgetSeenByService: budgetSeenByService(pid),
      allocator,
      idleRssMb,
      idleSmallSeconds: idle.map((o) => o.seconds),
      // The kernel's high-water mark also catches a spike between two samples.
      peakRssMb: Math.max(...samples.map((s) => s.mb), alive ? peakRssMb(pid) : 0),
      afterRssMb,
      outcomes,
      livenessMs,
      eventLoopMaxMs,
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

/**
 * The longest the service's event loop was held since the last scrape, from its own /metrics
 * (prom-client's monitorEventLoopDelay max, reset on each scrape): what delays a probe inside the
 * service, apart from the network and the client.
 */
async function eventLoopDelayMaxMs(port: number): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const max = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return max ? Number(max[1]) * 1000 : undefined;
}
