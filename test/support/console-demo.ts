/**
 * Test helper: the demo's scenario run in-process (as `npm run demo` does),
 * then chainsight serving its data (the API and the console) on a free
 * loopback port, plus a 10,000-action task for the virtualised tree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../src/demo/run.js';
import { HUMAN, TRUST_DOMAIN } from '../../src/demo/scenario.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/runtime/logger.js';
import { startServer, type RunningServer } from '../../src/runtime/server.js';
import { BatchWriter } from '../../src/store/writer.js';
import { toActionRow } from '../../src/correlate/correlate.js';
import type { ActionRow } from '../../src/correlate/rows.js';
import { VERIFIED, failed } from '../../src/model/verdict.js';
import { makeSpan } from './spans.js';

export const BIG_TASK = 'task-bulk-10k';
export const BIG_TASK_ACTIONS = 10_000;

export interface DemoConsole {
  server: RunningServer;
  /** Base URL of the API, which serves the console at /console/. */
  base: string;
  /** The demo's task id. */
  taskId: string;
  lines: string[];
  close(): Promise<void>;
}

/** `followUp`: also the demo's follow-up task and the alerts it raises (the screenshots); the tests walk the review's own data. */
export async function startDemoConsole(opts: { bigTask?: boolean; followUp?: boolean } = {}): Promise<DemoConsole> {
  const dir = mkdtempSync(join(tmpdir(), 'chainsight-console-'));
  const lines: string[] = [];
  const ok = await runDemo({ dataDir: dir, listActions: false, out: (l) => lines.push(l), followUp: opts.followUp ?? false });
  if (!ok) throw new Error(`the demo did not check out:\n${lines.join('\n')}`);
  const taskId = /\(task (task-[0-9a-f]+)\)/.exec(lines.join('\n'))?.[1];
  if (!taskId) throw new Error('the demo printed no task id');
  const config = loadConfig({}, {
    data: dir, trustDir: join(dir, 'trust'), policy: join(dir, 'policy.json'), rules: join(dir, 'rules.yaml'), otlpPort: 0, apiPort: 0,
  }, { logLevel: 'warn' });
  const server = await startServer(config, createLogger(config.logLevel), { receiver: false });
  if (opts.bigTask) await writeBigTask(server);
  return {
    server, base: server.apiUrl, taskId, lines,
    async close() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A task of 10,000 actions by four agents under one chain, every 97th flagged. */
async function writeBigTask(server: RunningServer): Promise<void> {
  const { writerClient, database } = server.pipeline;
  const writer = new BatchWriter<ActionRow>(writerClient, `${database}.actions`, { maxRows: 5000, maxDelayMs: 20 });
  const agent = (name: string) => `spiffe://${TRUST_DOMAIN}/agent/${name}/bulk-1`;
  const planner = agent('bulk-planner');
  const workers = ['bulk-scanner', 'bulk-indexer', 'bulk-auditor'].map(agent);
  const t0 = Date.now() - 3 * 3600_000;
  const rows: ActionRow[] = [];
  const now = Date.now();
  for (let i = 0; i < BIG_TASK_ACTIONS; i++) {
    const who = i % 10 === 0 ? planner : workers[i % workers.length]!;
    const path = who === planner ? [HUMAN, planner] : [HUMAN, planner, who];
    const startMs = t0 + i * 1000;
    const bad = i % 97 === 0;
    rows.push(toActionRow(
      makeSpan({
        taskId: BIG_TASK, agentId: who, agentName: who.split('/')[4]!, startMs, endMs: startMs + 200,
        startNs: `${startMs}000000`, endNs: `${startMs + 200}000000`, traceId: 'b'.repeat(32), spanId: (i + 1).toString(16).padStart(16, '0'),
        toolName: `bulk.op${i % 7}`, name: `execute_tool bulk.op${i % 7}`, scopesUsed: [bad ? 'bulk:Delete' : 'bulk:Read'], resource: `urn:bulk:item:${i}`,
      }),
      bad ? failed([{ code: 'scope.exceeded', message: 'bulk:Delete was not granted' }]) : VERIFIED,
      { rootHuman: HUMAN, rootIssuedAtMs: t0, purpose: 'bulk re-index', depth: path.length - 1, path, delegator: path[path.length - 2]!, grantedScopes: ['bulk:Read'], linkHashes: [] },
      `bulk-chain-${who}`, now,
    ));
  }
  await writer.write(rows);
  await writer.close();
}
