/** Starting, watching and stopping the systems under test (each its own process). */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);

/** Runs a command to completion, output shown; throws on a non-zero exit. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

/** Servers this run started and has not stopped: killed if the bench itself is interrupted. */
const running = new Set<ChildProcess>();
let cleanupInstalled = false;

function killRunning(): void {
  for (const child of running) child.kill('SIGKILL');
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once('exit', killRunning);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killRunning();
      process.exit(130);
    });
  }
}

/** Kills `child` too if the bench is interrupted before it ends. */
export function track(child: ChildProcess): void {
  installCleanup();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export interface Started {
  child: ChildProcess;
  /** Seconds from spawn until the ready URL answered 200. */
  coldStartSeconds: number;
  /** How it ended, once it has (set by the exit listener). */
  exit?: { code: number | null; signal: NodeJS.Signals | null; at: number };
}

/** Spawns a server and polls `readyUrl` every 50 ms until it answers 200. */
export async function startAndWait(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  timeoutSeconds = 600,
): Promise<Started> {
  const started = performance.now();
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  track(child);
  const result: Started = { child, coldStartSeconds: NaN };
  child.on('exit', (code, signal) => (result.exit = { code, signal, at: performance.now() }));
  for (;;) {
    if (result.exit) {
      throw new Error(
        `${cmd} exited (code ${result.exit.code}, signal ${result.exit.signal}) before it was ready`,
      );
    }
    if (performance.now() - started > timeoutSeconds * 1000) {
      child.kill('SIGKILL');
      throw new Error(`${cmd} was not ready within ${timeoutSeconds} s`);
    }
    const ok = await fetch(readyUrl).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) {
      result.coldStartSeconds = (performance.now() - started) / 1000;
      return result;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** SIGTERM, then SIGKILL after `graceSeconds`. */
export async function stop(child: ChildProcess, graceSeconds = 30): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceSeconds * 1000);
  await exited;
  clearTimeout(timer);
}

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm'))?.[1] ?? NaN);
  return kb / 1024;
}

/** Peak resident memory (the kernel's high-water mark, VmHWM) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  return statusField(pid, 'VmHWM');
}

export function rssMb(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Samples VmRSS every `everyMs` until stopped (the high-water mark alone cannot say "after"). */
export function sampleRss(pid: number, everyMs = 50) {
  const samples: { t: number; mb: number }[] = [];
  const started = performance.now();
  const timer = setInterval(() => {
    try {
      const mb = rssMb(pid);
      // A process being reaped has a status file without VmRSS.
      if (Number.isFinite(mb)) samples.push({ t: (performance.now() - started) / 1000, mb });
    } catch {
      // the process has gone; its exit is reported elsewhere
    }
  }, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}
