import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Gauge } from 'prom-client';
import type { ChainsightConfig } from '../config/config.js';
import { createOtlpRouter } from '../ingest/receiver.js';
import { AdmissionController } from '../ingest/admission.js';
import { createApiRouter } from '../serve/api.js';
import { createRevocationRouter } from '../serve/revocation-api.js';
import { openPipeline, type Pipeline } from './pipeline.js';
import type { Logger } from './logger.js';
import { prepareDirectories, startTrustReloading, type TrustReloading, type TrustReloadOptions } from './trust-reload.js';

export interface RunningServer {
  pipeline: Pipeline;
  /** Trust bundle reloading (on change, or `reload()` on SIGHUP). */
  trust: TrustReloading;
  otlpUrl: string;
  apiUrl: string;
  stop(): Promise<void>;
}

async function listen(app: express.Express, host: string, port: number): Promise<Server> {
  const server = app.listen(port, host);
  await once(server, 'listening');
  return server;
}

function urlOf(server: Server): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}

/**
 * `chainsight serve`: the OTLP/HTTP receiver feeding the processor in-process,
 * and the analyst API, on separate ports: agents and analysts sit on
 * different sides of a trust boundary.
 */
export async function startServer(config: ChainsightConfig, logger: Logger, opts: { receiver?: boolean; trustReload?: TrustReloadOptions } = {}): Promise<RunningServer> {
  await prepareDirectories(config);
  const pipeline = await openPipeline(config, logger);
  const trust = await startTrustReloading(pipeline.trust, config.trustDir, pipeline.metrics.registry, logger, opts.trustReload);
  const servers: Server[] = [];
  let otlpUrl = '';
  if (opts.receiver !== false) {
    const ingestApp = express();
    ingestApp.disable('x-powered-by');
    const admission = new AdmissionController(config.admission);
    new Gauge({
      name: 'chainsight_otlp_inflight_bytes',
      help: 'Accounted bytes held by OTLP requests in flight (the admission budget in use)',
      registers: [pipeline.metrics.registry],
      collect() {
        this.set(admission.inflightBytes);
      },
    });
    ingestApp.use(createOtlpRouter({ sink: pipeline.quarantining, limits: config.limits, metrics: receiverMetrics(pipeline), logger, admission }));
    const s = await listen(ingestApp, config.otlp.host, config.otlp.port);
    servers.push(s);
    otlpUrl = urlOf(s);
  }
  const apiApp = express();
  apiApp.disable('x-powered-by');
  apiApp.use(createRevocationRouter({ ...pipeline.revocations, logger }));
  apiApp.use(createApiRouter(pipeline.queries, pipeline.metrics, logger, pipeline.findQuarantined));
  const api = await listen(apiApp, config.api.host, config.api.port);
  servers.push(api);
  const apiUrl = urlOf(api);
  logger.info({ otlp: otlpUrl || 'disabled', api: apiUrl, store: config.store.target.kind }, 'chainsight serving');
  return {
    pipeline, trust, otlpUrl, apiUrl,
    async stop() {
      trust.close();
      for (const s of servers) {
        s.closeAllConnections();
        s.close();
      }
      await pipeline.close();
    },
  };
}

function receiverMetrics(p: Pipeline) {
  const m = p.metrics;
  return {
    request(status: number, encoding: string, bytes: number) {
      m.requests.inc({ status: String(status), encoding });
      m.requestBytes.inc(bytes);
    },
    spans(received: number, rejected: number) {
      m.spansReceived.inc({ source: 'otlp_http' }, received);
      if (rejected) m.spansRejected.inc({ source: 'otlp_http' }, rejected);
    },
    decodeError() {
      m.decodeErrors.inc({ source: 'otlp_http' });
    },
  };
}
