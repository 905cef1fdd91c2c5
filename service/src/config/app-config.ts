import { cpuBudget } from '../common/cpu-budget';
import { memoryBudget } from '../common/memory-budget';
import { ConfigError, DEFAULTS, Environment, MEMORY_SHARES, parseEnvironment } from './environment';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** The validated settings, grouped the way the modules use them. */
export interface AppConfig {
  http: {
    port: number;
    host: string;
    maxUploadBytes: number;
    bodyTimeoutMs: number;
    headersTimeoutMs: number;
  };
  logLevel: LogLevel;
  model: {
    id: string;
    revision?: string;
    dir?: string;
    cacheDir: string;
    hubUrl: string;
    dtype: 'fp32' | 'q8';
    allowRemote: boolean;
  };
  /** Bytes the process may use (MEMORY_BUDGET_BYTES, by default the container's limit). */
  memoryBudgetBytes: number;
  /** Requests uploading or decoding at once, and the bytes of their bodies held at once. */
  intake: { max: number; uploadBufferBytes: number };
  image: {
    maxInputPixels: number;
    decodeTimeoutMs: number;
    decodeConcurrency: number;
    decodeMemoryBytes: number;
  };
  engine: {
    workers: number;
    threads: number;
    maxBatch: number;
    maxWaitMs: number;
    cpus: number;
    maxRows: number;
    joinBudgetMs: number;
    fidelity: 'exact' | 'fast';
    spinning: boolean;
  };
  queue: { max: number; requestTimeoutMs: number };
  cache: { maxEntries: number };
  shutdownTimeoutMs: number;
  defaultNumBeams: number;
  /** Origins allowed to call from a browser: a list, '*' for any, or none (no CORS headers). */
  cors: { origins: string[] | '*' };
  /** Image URLs: private hosts admitted by name, and how long a fetch may take. */
  urlFetch: { allowedPrivateHosts: string[]; timeoutMs: number };
  batch: { maxFiles: number };
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cpus = cpuBudget(),
  memory = memoryBudget(),
): AppConfig {
  const e = parseEnvironment(env);
  const bounds = intakeBounds(e, cpus, e.MEMORY_BUDGET_BYTES ?? memory);
  return {
    http: {
      port: e.PORT,
      host: e.HOST,
      maxUploadBytes: e.MAX_UPLOAD_BYTES,
      bodyTimeoutMs: e.BODY_TIMEOUT_MS,
      headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    },
    logLevel: e.LOG_LEVEL as LogLevel,
    model: {
      id: e.MODEL_ID,
      revision: e.MODEL_REVISION,
      dir: e.MODEL_DIR,
      cacheDir: e.MODEL_CACHE_DIR,
      hubUrl: e.MODEL_HUB_URL,
      dtype: e.MODEL_DTYPE as 'fp32' | 'q8',
      allowRemote: e.ALLOW_REMOTE_MODELS,
    },
    memoryBudgetBytes: bounds.memoryBudgetBytes,
    intake: { max: bounds.intakeMax, uploadBufferBytes: bounds.uploadBufferBytes },
    image: {
      maxInputPixels: e.MAX_INPUT_PIXELS,
      decodeTimeoutMs: e.IMAGE_DECODE_TIMEOUT_MS,
      decodeConcurrency: bounds.decodeConcurrency,
      decodeMemoryBytes: bounds.decodeMemoryBytes,
    },
    engine: {
      ...engineThreads(e, cpus),
      maxBatch: e.ENGINE_MAX_BATCH,
      maxWaitMs: e.ENGINE_MAX_WAIT_MS,
      cpus,
      maxRows: e.ENGINE_MAX_ROWS,
      joinBudgetMs: e.ENGINE_JOIN_BUDGET_MS,
      fidelity: e.ENGINE_FIDELITY as 'exact' | 'fast',
      spinning: e.ENGINE_SPINNING,
    },
    queue: { max: e.QUEUE_MAX, requestTimeoutMs: e.REQUEST_TIMEOUT_MS },
    cache: { maxEntries: e.CACHE_MAX_ENTRIES },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    defaultNumBeams: e.DEFAULT_NUM_BEAMS,
    cors: { origins: e.CORS_ALLOWED_ORIGINS.trim() === '*' ? '*' : list(e.CORS_ALLOWED_ORIGINS) },
    urlFetch: {
      allowedPrivateHosts: list(e.URL_ALLOWED_PRIVATE_HOSTS).map((host) => host.toLowerCase()),
      timeoutMs: e.URL_FETCH_TIMEOUT_MS,
    },
    batch: { maxFiles: batchFiles(e) },
  };
}

/**
 * A batch is queued whole (its images hold their places up front), so it may have at most
 * QUEUE_MAX files: the default follows a smaller queue, a larger setting is refused.
 */
function batchFiles(e: Environment): number {
  if (e.MAX_BATCH_FILES === undefined) return Math.min(DEFAULTS.MAX_BATCH_FILES, e.QUEUE_MAX);
  if (e.MAX_BATCH_FILES > e.QUEUE_MAX) {
    throw new ConfigError(
      `Invalid environment variable MAX_BATCH_FILES: ${e.MAX_BATCH_FILES} exceeds QUEUE_MAX ` +
        `(${e.QUEUE_MAX}), so the largest batch could never be queued`,
    );
  }
  return e.MAX_BATCH_FILES;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * One worker using every CPU by default. Measured on 2 cores (full-size model, q8, 4 beams): one
 * worker with 2 threads captions one image in 0.55 s and peaks at 0.99 GB resident; two workers
 * with one thread each take 0.83 s, reach 32% more throughput at 16 clients, but hold two copies
 * of the weights (1.68 GB). Latency and memory win the default; ENGINE_WORKERS/ENGINE_THREADS
 * trade them for throughput. Workers x threads never exceed the CPUs the container may use.
 */
function engineThreads(e: Environment, cpus: number): { workers: number; threads: number } {
  const workers = e.ENGINE_WORKERS ?? 1;
  const threads = e.ENGINE_THREADS ?? Math.max(1, Math.floor(cpus / workers));
  if (workers * threads > cpus) {
    const which = e.ENGINE_THREADS === undefined ? 'ENGINE_WORKERS' : 'ENGINE_THREADS';
    throw new ConfigError(
      `Invalid environment variable ${which}: ENGINE_WORKERS x ENGINE_THREADS = ${workers} x ${threads} ` +
        `exceeds the ${cpus} CPUs this container may use`,
    );
  }
  return { workers, threads };
}

/** libuv's thread pool runs every sharp call; one thread stays free for metadata reads and fs. */
function threadPoolSize(): number {
  return Number(process.env.UV_THREADPOOL_SIZE) || 4;
}

/**
 * The admission bounds, each explicit when set and otherwise derived:
 * - UPLOAD_BUFFER_BYTES and DECODE_MEMORY_BYTES: shares of the memory budget (MEMORY_SHARES);
 * - DECODE_CONCURRENCY: one decode per CPU (a decode is one libvips thread), at most the libuv
 *   threads less one;
 * - INTAKE_MAX: 8 requests per decode slot. Measured here, the slowest decode inside the limits
 *   that still fits the 2 GiB pod's decode memory (a 7000x7000 RGBA PNG) takes 0.76 s, so a full
 *   intake drains in ~6 s of the 20 s deadline; more would only wait and time out.
 */
function intakeBounds(e: Environment, cpus: number, memoryBudgetBytes: number) {
  const uploadBufferBytes =
    e.UPLOAD_BUFFER_BYTES ??
    Math.max(e.MAX_UPLOAD_BYTES, Math.floor(memoryBudgetBytes * MEMORY_SHARES.UPLOAD_BUFFER_BYTES));
  if (uploadBufferBytes < e.MAX_UPLOAD_BYTES) {
    throw new ConfigError(
      `Invalid environment variable UPLOAD_BUFFER_BYTES: ${uploadBufferBytes} is below MAX_UPLOAD_BYTES ` +
        `(${e.MAX_UPLOAD_BYTES}), so the largest upload could never be admitted`,
    );
  }
  const decodeConcurrency =
    e.DECODE_CONCURRENCY ?? Math.max(1, Math.min(cpus, threadPoolSize() - 1));
  if (decodeConcurrency > threadPoolSize() - 1) {
    throw new ConfigError(
      `Invalid environment variable DECODE_CONCURRENCY: ${decodeConcurrency} decodes need more than ` +
        `the ${threadPoolSize()} libuv threads less one (raise UV_THREADPOOL_SIZE)`,
    );
  }
  return {
    memoryBudgetBytes,
    uploadBufferBytes,
    decodeConcurrency,
    decodeMemoryBytes:
      e.DECODE_MEMORY_BYTES ?? Math.floor(memoryBudgetBytes * MEMORY_SHARES.DECODE_MEMORY_BYTES),
    intakeMax: e.INTAKE_MAX ?? 8 * decodeConcurrency,
  };
}
