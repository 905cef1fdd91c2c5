/**
 * Writes the service's OpenAPI document, exactly as GET /docs-json serves it, to a file (for the
 * linter and for clients that generate code): `npm run openapi:export -- [FILE]`. Builds the app
 * without listening or loading a model.
 */
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AppModule } from '../../service/src/app.module';
import { loadConfig } from '../../service/src/config/app-config';
import { APP_OPTIONS, configureApp } from '../../service/src/main';
import { buildOpenApiDocument } from '../../service/src/openapi';

export const DEFAULT_OUTPUT = resolve(__dirname, '..', '..', '.test-output', 'openapi.json');

async function main(output = DEFAULT_OUTPUT): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent' });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    ...APP_OPTIONS,
    logger: false,
  });
  configureApp(app);
  await app.init();
  const document = buildOpenApiDocument(app);
  await app.close();
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`OpenAPI document written to ${output}\n`);
}

if (require.main === module) {
  main(process.argv[2] ? resolve(process.argv[2]) : undefined).catch((error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  });
}
