import { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { buildOpenApiDocument } from '../../src/openapi';

/** A response the OpenAPI document does not describe. */
export interface Violation {
  request: string;
  message: string;
}

/**
 * Validates every JSON response the app sends (status, media type and body) against the app's
 * own OpenAPI document (but a 499 to a client that has left), with express-openapi-validator. Requests are not validated: the tests
 * send bad ones on purpose. The document is made strict for the check (objects allow no member
 * they do not declare), so an undocumented member of a response is a violation too.
 * Returns the list violations are recorded in.
 */
export function validateResponsesAgainstDocument(app: NestExpressApplication): Violation[] {
  const violations: Violation[] = [];
  const document = strict(structuredClone(buildOpenApiDocument(app)));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: document as unknown as string,
      validateApiSpec: true,
      validateRequests: false,
      validateSecurity: false,
      fileUploader: false,
      ignoreUndocumented: true,
      validateResponses: {
        allErrors: true,
        onError: (error: Error, body: unknown, request: Request) => {
          // A 499 reaches no one (the client had left; nginx's convention, logged and counted);
          // the document describes what clients receive.
          if ((body as { status?: unknown } | undefined)?.status === 499) return;
          violations.push({
            request: `${request.method} ${request.originalUrl}`,
            message: error.message,
          });
        },
      },
    }),
  );
  return violations;
}

/** Every object schema that declares properties gets additionalProperties: false. */
function strict<T>(node: T): T {
  if (Array.isArray(node)) {
    node.forEach(strict);
  } else if (node && typeof node === 'object') {
    const schema = node as Record<string, unknown>;
    if (schema.properties && schema.additionalProperties === undefined) {
      schema.additionalProperties = false;
    }
    Object.values(schema).forEach(strict);
  }
  return node;
}
