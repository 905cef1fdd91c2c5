import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import helmet from 'helmet';
import { WebController } from './web.controller';

/**
 * The "try it" page at GET /: static files served by the service itself (no build step: one
 * HTML file, one script, one stylesheet). Its routes, and only those, get helmet's headers with
 * a Content-Security-Policy that allows exactly what the page uses: its own script and styles,
 * fetches to this origin (the OpenAPI document and POST /caption), and blob: images for the
 * preview. Swagger UI at /docs needs inline scripts and keeps its own headers.
 */
@Module({ controllers: [WebController] })
export class WebModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(helmet({ contentSecurityPolicy: { useDefaults: false, directives: PAGE_CSP } }))
      .forRoutes(WebController);
  }
}

export const PAGE_CSP = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  // blob: is the preview of the chosen file (URL.createObjectURL), never a remote image
  'img-src': ["'self'", 'blob:'],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
};
