import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ModelLoaderService } from './caption/model-loader.service';
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
  const app = await createApp(config);
  await app.listen(config.http.port, config.http.host);
  const logger = app.get(Logger);
  logger.log(`listening on http://${config.http.host}:${config.http.port} (docs at /docs)`);
  app
    .get(ModelLoaderService)
    .load()
    .catch((error: Error) => {
      process.stderr.write(`model load failed: ${error.message}\n`);
      logger.error(`model load failed: ${error.message}`);
      process.exit(1);
    });
}

if (require.main === module) void main();
