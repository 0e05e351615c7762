import type express from 'express';

/** The routes express routers actually registered, paths in OpenAPI's `{param}` form. */
export function registeredRoutes(...routers: express.Router[]): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const layer of routers.flatMap((r) => r.stack) as Array<{ route?: { path: string; methods: Record<string, boolean> } }>) {
    if (!layer.route) continue;
    const path = layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path });
  }
  return out;
}
