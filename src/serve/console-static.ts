/**
 * Serves the analyst console's built files (console/dist, made by
 * `npm run build:console`, which `npm install` runs) at /console/, and
 * redirects / there. Static files only: the console reads every datum
 * through the guarded API routes with the analyst's own token.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type NextFunction } from 'express';

/** Where the build lands, from src/serve (tsx) and dist/serve (compiled) alike. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist/', import.meta.url));

/**
 * No inline script or style, no third-party origin, no framing: the page can
 * only run the bundle it was served with and talk to this origin.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function secure(res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('X-Frame-Options', 'DENY');
}

export function serveConsole(logger?: { warn(obj: object, msg: string): void }, dir = CONSOLE_DIST): express.Router {
  const r = express.Router();
  const built = existsSync(`${dir}index.html`);
  if (!built) logger?.warn({ dir }, 'the analyst console is not built (npm run build:console); /console/ answers 503');

  r.get('/', (_req, res) => { res.redirect(302, '/console/'); });
  // Routing is not strict about a trailing slash: only the bare path is redirected.
  r.get('/console', (req, res, next) => {
    if (req.originalUrl.split('?')[0] === '/console') res.redirect(301, '/console/');
    else next();
  });

  r.use('/console', (req: Request, res: Response, next: NextFunction) => {
    secure(res);
    if (!built) {
      res.status(503).type('text/plain').send('The analyst console is not built: run `npm run build:console`.\n');
      return;
    }
    next();
  });
  r.use('/console', express.static(dir, {
    index: 'index.html',
    redirect: false,
    dotfiles: 'deny',
    fallthrough: true,
    setHeaders: (res, path) => {
      // Vite names assets by content hash: they never change under one name. The page itself is always revalidated.
      res.setHeader('Cache-Control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  }));
  // Any other /console path is a view of the single page (views live in the fragment, but a reload of an old link still lands).
  r.get(/^\/console\/(?!assets\/).*/, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile('index.html', { root: dir });
  });
  return r;
}
