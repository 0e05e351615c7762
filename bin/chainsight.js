#!/usr/bin/env node
// Runs the compiled CLI; `npm install` builds dist/ through the prepare script.
import('../dist/cli/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('chainsight: dist/ is missing; run `npm install` (or `npm run build`) first');
    process.exit(1);
  }
  throw err;
});
