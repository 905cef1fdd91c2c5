import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { assertModelAvailable, modelSourceOf } from './caption/engine/model/model-store';
import { ModelUnavailableError } from './caption/engine/model/model-spec';
import { ModelLoaderService } from './caption/model-loader.service';
import { corsOptions } from './common/http/cors';
import { configureHttpServer } from './common/http/http-server';
import { APP_CONFIG, AppConfig, loadConfig } from './config/app-config';
import { ConfigError } from './config/environment';
import { CaptionMetrics } from './metrics/caption-metrics.service';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { setupOpenApi } from './openapi';

/** No global body parsers: /caption reads its own body with limits, nothing else takes one. */
export const APP_OPTIONS = { bodyParser: false, bufferLogs: true } as const;

export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config),
    APP_OPTIONS,
  );
  configureApp(app);
  // Readiness turns 503 at once on SIGTERM; accepted captions finish, then exit 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  return app;
}

/** What every instance of the app gets, the tests' included. */
export function configureApp(app: NestExpressApplication): void {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  const cors = corsOptions(app.get<AppConfig>(APP_CONFIG));
  if (cors) app.enableCors(cors);
  app.use(httpMetricsMiddleware(app.get(CaptionMetrics)));
  configureHttpServer(app.getHttpServer(), app.get<AppConfig>(APP_CONFIG).http, (message) =>
    app.get(Logger).log(message, 'HttpServer'),
  );
  setupOpenApi(app);
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // A model that cannot be had is said once, before anything says "started".
  try {
    assertModelAvailable(modelSourceOf(config.model), config.model.dtype);
  } catch (error) {
    if (!(error instanceof ModelUnavailableError)) throw error;
    return exitWith(`model load failed: ${error.message}`);
  }
  const app = await createApp(config);
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (error) {
    return exitWith(listenFailure(error as NodeJS.ErrnoException, config));
  }
  const logger = app.get(Logger);
  logger.log(`listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
  app
    .get(ModelLoaderService)
    .load()
    .catch((error: Error) => exitWith(`model load failed: ${error.message}`));
}

/** One line on stderr for a person, exit 1: no stack trace for a condition with a known cause. */
function exitWith(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

function listenFailure(error: NodeJS.ErrnoException, config: AppConfig): string {
  const where = `${config.http.host}:${config.http.port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is in use (EADDRINUSE); stop what uses it or set PORT to a free port`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (EACCES); ports below 1024 need privileges, set PORT to 1024 or above`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on ${where}: HOST is not an address of this machine (${error.code}); set HOST`;
    default:
      return `cannot listen on ${where}: ${error.message}`;
  }
}

if (require.main === module) void main();
