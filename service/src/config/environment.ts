import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  ValidationError,
  validateSync,
} from 'class-validator';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DECODING_OPTIONS } from '../caption/decoding-options/decoding-option-catalog';
import { BooleanVariable, IntVariable } from './environment.decorators';

const MiB = 1024 * 1024;

/** Every setting the service reads, with its default: the one place defaults live. */
export const DEFAULTS = {
  PORT: 3000,
  HOST: '0.0.0.0',
  LOG_LEVEL: 'info',
  MODEL_ID: 'Xenova/vit-gpt2-image-captioning',
  MODEL_HUB_URL: 'https://huggingface.co',
  MODEL_CACHE_DIR: join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'caption-service'),
  // q8: 1.6x faster than fp32 on the benchmark at 57% of its peak memory (see README).
  MODEL_DTYPE: 'q8',
  ALLOW_REMOTE_MODELS: false,
  MAX_UPLOAD_BYTES: 20 * 1024 * 1024,
  MAX_INPUT_PIXELS: 50_000_000,
  IMAGE_DECODE_TIMEOUT_MS: 10_000,
  SHUTDOWN_TIMEOUT_MS: 25_000,
  REQUEST_TIMEOUT_MS: 20_000,
  QUEUE_MAX: 64,
  ENGINE_MAX_BATCH: 4,
  ENGINE_MAX_WAIT_MS: 5,
  // Continuous batching bounds: 16 rows = 4 images x 4 beams, as many images as the static
  // batches took (4 measured best on 2 cores); one encoder (~100 ms) may join between two steps.
  ENGINE_MAX_ROWS: 16,
  ENGINE_JOIN_BUDGET_MS: 100,
  // fast: the int8 LM head (q8 only); no fewer captions identical to PyTorch fp32 than the stock
  // q8 arithmetic on the fidelity spec, about half the weight bytes read per step (see README).
  ENGINE_FIDELITY: 'fast',
  // Spinning intra-op threads burn the container's CPU quota and the cores the worker's own
  // JavaScript (the searches between steps) needs: measured 2x slower on a busy 2-core machine.
  ENGINE_SPINNING: false,
  CACHE_MAX_ENTRIES: 1024,
  DEFAULT_NUM_BEAMS: 4,
  // An upload must arrive whole within this: 20 MiB (MAX_UPLOAD_BYTES) at 17 Mbit/s, a 3 MB photo
  // at 2.4 Mbit/s. Half the caption deadline, which leaves the other half for decode, queue and
  // decoding (p95 0.66 s unloaded, measured by npm run bench).
  BODY_TIMEOUT_MS: 10_000,
  // Headers are a few hundred bytes; a client that takes seconds to send them is not a browser.
  HEADERS_TIMEOUT_MS: 10_000,
  // Empty: no CORS headers, browsers on other origins cannot call the API.
  CORS_ALLOWED_ORIGINS: '',
  // Empty: image URLs may name only public addresses.
  URL_ALLOWED_PRIVATE_HOSTS: '',
  URL_FETCH_TIMEOUT_MS: 10_000,
  // The batch route's most files per request: 16 images are 4 engine batches of ENGINE_MAX_BATCH.
  // A batch must fit the queue whole, so the default is at most QUEUE_MAX.
  MAX_BATCH_FILES: 16,
} as const;

// An origin as browsers send it: scheme://host[:port], no path, no trailing slash.
const ORIGIN = String.raw`https?://[^\s,/]+`;
const HOST = String.raw`[A-Za-z0-9_.:\[\]-]+`;

/**
 * Bounds that follow the memory the process may use (MEMORY_BUDGET_BYTES, by default the
 * container's limit) when they are not set: upload buffers get an eighth of it, decodes a
 * quarter, which on the 2 GiB pod leaves ~1.25 GiB for the model (~1 GB at peak, full-size q8)
 * and the process. How the others follow: see loadConfig.
 */
export const MEMORY_SHARES = { UPLOAD_BUFFER_BYTES: 1 / 8, DECODE_MEMORY_BYTES: 1 / 4 } as const;

/** The raw environment, validated with class-validator. Names are the variables' names. */
export class Environment {
  @IntVariable(1, 65535) PORT: number = DEFAULTS.PORT;

  @IsString()
  HOST: string = DEFAULTS.HOST;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL: string = DEFAULTS.LOG_LEVEL;

  @Matches(/^[\w.-]+\/[\w.-]+$/, { message: 'MODEL_ID must look like owner/name' })
  MODEL_ID: string = DEFAULTS.MODEL_ID;

  @IsOptional()
  @Matches(/^[0-9a-f]{40}$/, {
    message:
      'MODEL_REVISION must be a 40-character commit hash (a branch such as main can move under you)',
  })
  MODEL_REVISION?: string;

  @IsOptional()
  @IsString()
  MODEL_DIR?: string;

  @IsString()
  MODEL_CACHE_DIR: string = DEFAULTS.MODEL_CACHE_DIR;

  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  MODEL_HUB_URL: string = DEFAULTS.MODEL_HUB_URL;

  @IsIn(['fp32', 'q8'])
  MODEL_DTYPE: string = DEFAULTS.MODEL_DTYPE;

  @BooleanVariable() ALLOW_REMOTE_MODELS: boolean = DEFAULTS.ALLOW_REMOTE_MODELS;

  @IntVariable(1024, 1024 * 1024 * 1024) MAX_UPLOAD_BYTES: number = DEFAULTS.MAX_UPLOAD_BYTES;

  @IntVariable(224 * 224, 1_000_000_000) MAX_INPUT_PIXELS: number = DEFAULTS.MAX_INPUT_PIXELS;

  @IntVariable(100, 600_000) IMAGE_DECODE_TIMEOUT_MS: number = DEFAULTS.IMAGE_DECODE_TIMEOUT_MS;

  @IntVariable(0, 600_000) SHUTDOWN_TIMEOUT_MS: number = DEFAULTS.SHUTDOWN_TIMEOUT_MS;

  @IntVariable(100, 600_000) REQUEST_TIMEOUT_MS: number = DEFAULTS.REQUEST_TIMEOUT_MS;

  @IntVariable(1, 100_000) QUEUE_MAX: number = DEFAULTS.QUEUE_MAX;

  @IntVariable(1, 256, { optional: true }) ENGINE_WORKERS?: number;

  @IntVariable(1, 256, { optional: true }) ENGINE_THREADS?: number;

  @IntVariable(1, 64) ENGINE_MAX_BATCH: number = DEFAULTS.ENGINE_MAX_BATCH;

  @IntVariable(0, 10_000) ENGINE_MAX_WAIT_MS: number = DEFAULTS.ENGINE_MAX_WAIT_MS;

  @IntVariable(0, 10_000_000) CACHE_MAX_ENTRIES: number = DEFAULTS.CACHE_MAX_ENTRIES;

  @IntVariable(DECODING_OPTIONS.num_beams.minimum, DECODING_OPTIONS.num_beams.maximum)
  DEFAULT_NUM_BEAMS: number = DEFAULTS.DEFAULT_NUM_BEAMS;

  @Matches(new RegExp(`^(\\*|${ORIGIN}(\\s*,\\s*${ORIGIN})*)?$`), {
    message:
      'CORS_ALLOWED_ORIGINS must be * or a comma-separated list of origins such as https://example.org (scheme://host[:port], no path)',
  })
  CORS_ALLOWED_ORIGINS: string = DEFAULTS.CORS_ALLOWED_ORIGINS;

  @Matches(new RegExp(`^(${HOST}(\\s*,\\s*${HOST})*)?$`), {
    message:
      'URL_ALLOWED_PRIVATE_HOSTS must be a comma-separated list of host names or IP addresses',
  })
  URL_ALLOWED_PRIVATE_HOSTS: string = DEFAULTS.URL_ALLOWED_PRIVATE_HOSTS;

  @IntVariable(100, 600_000) URL_FETCH_TIMEOUT_MS: number = DEFAULTS.URL_FETCH_TIMEOUT_MS;

  // Unset: DEFAULTS.MAX_BATCH_FILES, at most QUEUE_MAX (see loadConfig).
  @IntVariable(1, 256, { optional: true }) MAX_BATCH_FILES?: number;

  @IntVariable(100, 600_000) BODY_TIMEOUT_MS: number = DEFAULTS.BODY_TIMEOUT_MS;

  @IntVariable(100, 600_000) HEADERS_TIMEOUT_MS: number = DEFAULTS.HEADERS_TIMEOUT_MS;

  @IntVariable(64 * MiB, 2 ** 50, { optional: true }) MEMORY_BUDGET_BYTES?: number;

  @IntVariable(1, 100_000, { optional: true }) INTAKE_MAX?: number;

  @IntVariable(MiB, 2 ** 50, { optional: true }) UPLOAD_BUFFER_BYTES?: number;

  @IntVariable(1, 64, { optional: true }) DECODE_CONCURRENCY?: number;

  @IntVariable(16 * MiB, 2 ** 50, { optional: true }) DECODE_MEMORY_BYTES?: number;

  @IntVariable(1, 512) ENGINE_MAX_ROWS: number = DEFAULTS.ENGINE_MAX_ROWS;

  @IntVariable(0, 60_000) ENGINE_JOIN_BUDGET_MS: number = DEFAULTS.ENGINE_JOIN_BUDGET_MS;

  @IsIn(['exact', 'fast'])
  ENGINE_FIDELITY: string = DEFAULTS.ENGINE_FIDELITY;

  @BooleanVariable() ENGINE_SPINNING: boolean = DEFAULTS.ENGINE_SPINNING;
}

export const ENVIRONMENT_VARIABLES = Object.keys(new Environment()).concat([
  'MODEL_REVISION',
  'MODEL_DIR',
  'ENGINE_WORKERS',
  'ENGINE_THREADS',
  'MEMORY_BUDGET_BYTES',
  'INTAKE_MAX',
  'UPLOAD_BUFFER_BYTES',
  'DECODE_CONCURRENCY',
  'DECODE_MEMORY_BYTES',
  'MAX_BATCH_FILES',
]);

export class ConfigError extends Error {}

/**
 * Validates the variables this service reads (unset or empty means default) and returns them
 * typed. Throws a ConfigError naming the first wrong variable.
 */
export function parseEnvironment(env: NodeJS.ProcessEnv): Environment {
  const known = new Set(ENVIRONMENT_VARIABLES);
  const given: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (known.has(name) && value !== undefined && value.trim() !== '') given[name] = value.trim();
  }
  const parsed = plainToInstance(Environment, given);
  const errors = validateSync(parsed, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const first = errors[0];
    throw new ConfigError(
      `Invalid environment variable ${first.property}=${JSON.stringify(given[first.property])}: ${describe(first)}`,
    );
  }
  return parsed;
}

// A value of the wrong kind reports that, not a range it could not be compared with.
const KIND_CONSTRAINTS = ['isInt', 'isBoolean', 'isIn', 'matches', 'isUrl', 'isString'];

function describe(error: ValidationError): string {
  const constraints = error.constraints ?? {};
  const kind = KIND_CONSTRAINTS.find((name) => name in constraints);
  return kind ? constraints[kind] : Object.values(constraints).join('; ');
}
