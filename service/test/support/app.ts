import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { CAPTION_ENGINE, CaptionEngine } from '../../src/caption/engine/caption-engine';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import { APP_OPTIONS, configureApp } from '../../src/main';
import { validateResponsesAgainstDocument } from './openapi-validation';

/**
 * Config as the service would read it from these variables (quiet logs unless asked), on a
 * machine like the pod: 2 CPUs, 2 GiB.
 */
export function testConfig(env: Record<string, string>): AppConfig {
  return loadConfig({ LOG_LEVEL: 'silent', ...env }, 2, 2 * 1024 ** 3);
}

/**
 * The real app (real modules, real HTTP stack), optionally with a fake engine. Every JSON
 * response it sends is checked against its own OpenAPI document; closing the app fails the test
 * run if any did not match.
 */
export async function bootApp(
  config: AppConfig,
  engine?: CaptionEngine,
): Promise<NestExpressApplication> {
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (engine) builder = builder.overrideProvider(CAPTION_ENGINE).useValue(engine);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>(APP_OPTIONS);
  configureApp(app);
  const violations = validateResponsesAgainstDocument(app);
  await app.init();
  const close = app.close.bind(app);
  app.close = async () => {
    await close();
    if (violations.length > 0) {
      throw new Error(
        `${violations.length} response(s) did not match the OpenAPI document:\n` +
          violations.map((v) => `${v.request}: ${v.message}`).join('\n'),
      );
    }
  };
  return app;
}
