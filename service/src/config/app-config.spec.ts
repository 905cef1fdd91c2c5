import { loadConfig } from './app-config';
import { ConfigError, DEFAULTS } from './environment';

const GiB = 1024 ** 3;
const load = (env: Record<string, string>, cpus = 4, memory = 2 * GiB) =>
  loadConfig(env, cpus, memory);

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = load({});
    expect(config.http).toEqual({
      port: 3000,
      host: '0.0.0.0',
      maxUploadBytes: 20 * 1024 * 1024,
      bodyTimeoutMs: DEFAULTS.BODY_TIMEOUT_MS,
      headersTimeoutMs: DEFAULTS.HEADERS_TIMEOUT_MS,
    });
    expect(config.model.id).toBe('Xenova/vit-gpt2-image-captioning');
    expect(config.model.dtype).toBe('q8');
    expect(config.model.allowRemote).toBe(false);
    expect(config.model.revision).toBeUndefined();
    expect(config.queue).toEqual({
      max: DEFAULTS.QUEUE_MAX,
      requestTimeoutMs: DEFAULTS.REQUEST_TIMEOUT_MS,
    });
    expect(config.engine).toMatchObject({
      workers: 1,
      threads: 4,
      cpus: 4,
      maxBatch: DEFAULTS.ENGINE_MAX_BATCH,
    });
    expect(config.defaultNumBeams).toBe(4);
  });

  it('parses numbers, booleans and paths', () => {
    const config = load({
      PORT: '8080',
      ALLOW_REMOTE_MODELS: 'true',
      MODEL_DIR: '/models/x',
      MODEL_DTYPE: 'fp32',
      MAX_UPLOAD_BYTES: '1048576',
      CACHE_MAX_ENTRIES: '0',
      MODEL_REVISION: 'a'.repeat(40),
    });
    expect(config.http.port).toBe(8080);
    expect(config.model).toMatchObject({
      allowRemote: true,
      dir: '/models/x',
      dtype: 'fp32',
      revision: 'a'.repeat(40),
    });
    expect(config.http.maxUploadBytes).toBe(1048576);
    expect(config.cache.maxEntries).toBe(0);
  });

  it('reads CORS origins, private URL hosts and batch bounds', () => {
    expect(load({}).cors.origins).toEqual([]);
    expect(load({ CORS_ALLOWED_ORIGINS: '*' }).cors.origins).toBe('*');
    expect(
      load({ CORS_ALLOWED_ORIGINS: 'https://a.example, http://localhost:5173' }).cors.origins,
    ).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(load({}).urlFetch).toEqual({ allowedPrivateHosts: [], timeoutMs: 10_000 });
    expect(
      load({ URL_ALLOWED_PRIVATE_HOSTS: 'Intranet.local,10.0.0.7, [::1]' }).urlFetch
        .allowedPrivateHosts,
    ).toEqual(['intranet.local', '10.0.0.7', '[::1]']);
    expect(load({}).batch.maxFiles).toBe(16);
  });

  it('treats empty values as unset', () => {
    expect(load({ PORT: '', MODEL_DIR: '  ' }).http.port).toBe(3000);
    expect(load({ MODEL_DIR: '' }).model.dir).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc', /PORT="abc".*integer/],
    ['PORT', '70000', /PORT="70000".*65535/],
    ['MODEL_DTYPE', 'int4', /MODEL_DTYPE="int4"/],
    ['MODEL_REVISION', 'main', /MODEL_REVISION="main".*commit hash/],
    ['ALLOW_REMOTE_MODELS', 'yes', /ALLOW_REMOTE_MODELS="yes".*true or false/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL="loud"/],
    ['MODEL_ID', 'not a model', /MODEL_ID=.*owner\/name/],
    ['QUEUE_MAX', '0', /QUEUE_MAX="0"/],
    ['MAX_INPUT_PIXELS', '10', /MAX_INPUT_PIXELS="10"/],
    ['MODEL_HUB_URL', 'ftp://x', /MODEL_HUB_URL/],
    ['CORS_ALLOWED_ORIGINS', 'https://a.example/', /CORS_ALLOWED_ORIGINS=.*no path/],
    ['CORS_ALLOWED_ORIGINS', 'a.example', /CORS_ALLOWED_ORIGINS/],
    ['CORS_ALLOWED_ORIGINS', '*, https://a.example', /CORS_ALLOWED_ORIGINS/],
    ['URL_ALLOWED_PRIVATE_HOSTS', 'intranet/x', /URL_ALLOWED_PRIVATE_HOSTS/],
    ['URL_FETCH_TIMEOUT_MS', '10', /URL_FETCH_TIMEOUT_MS/],
    ['MAX_BATCH_FILES', '0', /MAX_BATCH_FILES/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('reports only the first wrong variable', () => {
    expect(() => load({ PORT: 'x', QUEUE_MAX: 'y' })).toThrow(
      /^Invalid environment variable PORT=/,
    );
  });

  it('never gives the engine more threads than CPUs', () => {
    expect(load({ ENGINE_WORKERS: '2' }, 4).engine).toMatchObject({ workers: 2, threads: 2 });
    expect(load({ ENGINE_THREADS: '1' }, 4).engine).toMatchObject({ workers: 1, threads: 1 });
    expect(() => load({ ENGINE_WORKERS: '2', ENGINE_THREADS: '3' }, 4)).toThrow(
      /2 x 3 exceeds the 4 CPUs/,
    );
    expect(() => load({ ENGINE_WORKERS: '3' }, 2)).toThrow(/ENGINE_WORKERS/);
  });

  describe('admission bounds', () => {
    it('follow the memory budget (the container limit) and the CPUs when not set', () => {
      const config = load({}, 2, 2 * GiB);
      expect(config.memoryBudgetBytes).toBe(2 * GiB);
      expect(config.intake).toEqual({ max: 16, uploadBufferBytes: GiB / 4 });
      expect(config.image).toMatchObject({ decodeConcurrency: 2, decodeMemoryBytes: GiB / 2 });
      const big = load({}, 8, 16 * GiB);
      expect(big.intake).toEqual({ max: 24, uploadBufferBytes: 2 * GiB });
      expect(big.image).toMatchObject({ decodeConcurrency: 3, decodeMemoryBytes: 4 * GiB });
    });

    it('follow MEMORY_BUDGET_BYTES over the detected memory, and take explicit values', () => {
      const budget = load({ MEMORY_BUDGET_BYTES: String(GiB) }, 2, 64 * GiB);
      expect(budget.memoryBudgetBytes).toBe(GiB);
      expect(budget.image.decodeMemoryBytes).toBe(GiB / 4);
      const explicit = load({
        INTAKE_MAX: '5',
        UPLOAD_BUFFER_BYTES: String(100 * 1024 * 1024),
        DECODE_CONCURRENCY: '1',
        DECODE_MEMORY_BYTES: String(300 * 1024 * 1024),
      });
      expect(explicit.intake).toEqual({ max: 5, uploadBufferBytes: 100 * 1024 * 1024 });
      expect(explicit.image).toMatchObject({
        decodeConcurrency: 1,
        decodeMemoryBytes: 300 * 1024 * 1024,
      });
    });

    it('never make the upload buffer smaller than one largest upload', () => {
      expect(load({}, 2, 128 * 1024 * 1024).intake.uploadBufferBytes).toBe(20 * 1024 * 1024);
      expect(() => load({ UPLOAD_BUFFER_BYTES: String(2 * 1024 * 1024) })).toThrow(
        /UPLOAD_BUFFER_BYTES: .* below MAX_UPLOAD_BYTES/,
      );
    });

    it('keep a batch within QUEUE_MAX: the default follows it, a larger setting is refused', () => {
      expect(load({}).batch.maxFiles).toBe(16);
      expect(load({ QUEUE_MAX: '8' }).batch.maxFiles).toBe(8);
      expect(load({ QUEUE_MAX: '8', MAX_BATCH_FILES: '8' }).batch.maxFiles).toBe(8);
      expect(() => load({ QUEUE_MAX: '8', MAX_BATCH_FILES: '9' })).toThrow(
        /MAX_BATCH_FILES: 9 exceeds QUEUE_MAX \(8\)/,
      );
    });

    it('refuse more decodes than libuv threads to run them', () => {
      expect(() => load({ DECODE_CONCURRENCY: '4' })).toThrow(/DECODE_CONCURRENCY: 4 decodes/);
    });
  });
});
