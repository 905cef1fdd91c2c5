import type { Express } from 'express';

interface RouteLayer {
  route?: { path: string; methods: Record<string, boolean> };
  match(path: string): boolean;
}

/**
 * The methods the app's routes accept for a path, uppercased (HEAD with GET, as Express
 * answers it), or none when no route has that path. Read from the Express router, the table
 * Nest registers every route in (Nest itself reads `app.router.stack`); the catch-all route
 * Nest answers unknown paths with is not a route of ours.
 */
export function allowedMethods(app: Express, path: string): string[] {
  const stack = (app as unknown as { router?: { stack?: RouteLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || layer.route.path.includes('{*') || !layer.match(path)) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) {
      if (on && method !== '_all') methods.add(method.toUpperCase());
    }
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}
