import { Transform, plainToInstance } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidationError,
  validateSync,
} from 'class-validator';
import { homedir } from 'node:os';
import { join } from 'node:path';

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
} as const;

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** The raw environment, validated with class-validator. Names are the variables' names. */
export class Environment {
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT: number = DEFAULTS.PORT;

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

  @Transform(toBool)
  @IsBoolean({ message: 'ALLOW_REMOTE_MODELS must be true or false' })
  ALLOW_REMOTE_MODELS: boolean = DEFAULTS.ALLOW_REMOTE_MODELS;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  MAX_UPLOAD_BYTES: number = DEFAULTS.MAX_UPLOAD_BYTES;

  @Transform(toInt)
  @IsInt()
  @Min(224 * 224)
  @Max(1_000_000_000)
  MAX_INPUT_PIXELS: number = DEFAULTS.MAX_INPUT_PIXELS;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  IMAGE_DECODE_TIMEOUT_MS: number = DEFAULTS.IMAGE_DECODE_TIMEOUT_MS;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS: number = DEFAULTS.SHUTDOWN_TIMEOUT_MS;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600_000)
  REQUEST_TIMEOUT_MS: number = DEFAULTS.REQUEST_TIMEOUT_MS;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  QUEUE_MAX: number = DEFAULTS.QUEUE_MAX;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  ENGINE_WORKERS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(256)
  ENGINE_THREADS?: number;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  ENGINE_MAX_BATCH: number = DEFAULTS.ENGINE_MAX_BATCH;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000)
  ENGINE_MAX_WAIT_MS: number = DEFAULTS.ENGINE_MAX_WAIT_MS;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  CACHE_MAX_ENTRIES: number = DEFAULTS.CACHE_MAX_ENTRIES;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(8)
  DEFAULT_NUM_BEAMS: number = DEFAULTS.DEFAULT_NUM_BEAMS;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(512)
  ENGINE_MAX_ROWS: number = DEFAULTS.ENGINE_MAX_ROWS;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  ENGINE_JOIN_BUDGET_MS: number = DEFAULTS.ENGINE_JOIN_BUDGET_MS;

  @IsIn(['exact', 'fast'])
  ENGINE_FIDELITY: string = DEFAULTS.ENGINE_FIDELITY;

  @Transform(toBool)
  @IsBoolean({ message: 'ENGINE_SPINNING must be true or false' })
  ENGINE_SPINNING: boolean = DEFAULTS.ENGINE_SPINNING;
}

export const ENVIRONMENT_VARIABLES = Object.keys(new Environment()).concat([
  'MODEL_REVISION',
  'MODEL_DIR',
  'ENGINE_WORKERS',
  'ENGINE_THREADS',
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
