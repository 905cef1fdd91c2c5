import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { CAPTION_ENGINE, CaptionEngine } from '../../src/caption/engine/caption-engine';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { APP_OPTIONS, configureApp } from '../../src/main';

/**
 * Config as the service would read it from these variables (quiet logs unless asked), on a
 * machine like the pod: 2 CPUs, 2 GiB.
 */
export function testConfig(env: Record<string, string>): AppConfig {
  return loadConfig({ LOG_LEVEL: 'silent', ...env }, 2, 2 * 1024 ** 3);
}

/** The real app (real modules, real HTTP stack), optionally with a fake engine. */
export async function bootApp(
  config: AppConfig,
  engine?: CaptionEngine,
): Promise<NestExpressApplication> {
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (engine) builder = builder.overrideProvider(CAPTION_ENGINE).useValue(engine);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(APP_OPTIONS);
  configureApp(app);
  await app.init();
  return app;
}
