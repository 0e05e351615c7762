import type express from 'express';

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/**
 * The routes an express app or router actually registered, paths in OpenAPI's
 * `{param}` form, including those of every router mounted in it (at the root,
 * as src/serve/app.ts mounts them).
 */
export function registeredRoutes(appOrRouter: express.Express | express.Router): Array<{ method: string; path: string }> {
  const root = (appOrRouter as { router?: { stack: Layer[] }; stack?: Layer[] });
  const out: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const path = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
        for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path });
      } else if (Array.isArray(layer.handle?.stack)) {
        walk(layer.handle.stack);
      }
    }
  };
  walk(root.router?.stack ?? root.stack ?? []);
  return out;
}
