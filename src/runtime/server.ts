import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import express from 'express';
import { Counter, Gauge } from 'prom-client';
import type { ChainsightConfig } from '../config/config.js';
import { createOtlpRouter } from '../ingest/receiver.js';
import { AdmissionController } from '../ingest/admission.js';
import { OtlpAuthenticator } from '../ingest/otlp-auth.js';
import { apiExposure, createApiApp } from './api-app.js';
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

/**
 * The receiver over HTTPS, client certificates requested but not required
 * (a bearer JWT-SVID, or nothing, may be enough for some trust domains). The
 * chain is judged by `auth` against the trust store in force, not by
 * OpenSSL against a CA list fixed at start, so bundle reloads apply.
 */
async function listenTls(app: express.Express, host: string, port: number, tls: { certFile: string; keyFile: string }, auth: OtlpAuthenticator): Promise<Server> {
  const server = createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile), requestCert: true, rejectUnauthorized: false }, app);
  server.on('secureConnection', auth.onSecureConnection);
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

function urlOf(server: Server, scheme = 'http'): string {
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${scheme}://${host}:${a.port}`;
}

/**
 * `chainsight serve`: the OTLP/HTTP receiver feeding the processor in-process,
 * and the analyst API, on separate ports: agents and analysts sit on
 * different sides of a trust boundary.
 */
export async function startServer(config: ChainsightConfig, logger: Logger, opts: { receiver?: boolean; trustReload?: TrustReloadOptions } = {}): Promise<RunningServer> {
  // Checked first: a refused exposure must not open the store or bind the receiver.
  apiExposure(config.api.host, config.apiAccess);
  await prepareDirectories(config);
  const pipeline = await openPipeline(config, logger);
  const trust = await startTrustReloading(pipeline, config, logger, opts.trustReload);
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
    const tlsRefused = new Counter({
      name: 'chainsight_otlp_client_certificates_refused_total',
      help: 'OTLP connections closed because their client certificate is not an X.509-SVID of its trust domain',
      registers: [pipeline.metrics.registry],
    });
    const auth = new OtlpAuthenticator({
      trust: pipeline.trust,
      audiences: config.otlp.audiences,
      skewSec: config.policy.clockSkewSec,
      onRefused: (error) => {
        tlsRefused.inc();
        logger.warn({ error }, 'OTLP client certificate refused; connection closed');
      },
    });
    ingestApp.use(createOtlpRouter({
      sink: pipeline.quarantining, limits: config.limits, metrics: receiverMetrics(pipeline), logger, admission,
      authenticate: (req) => auth.authenticate(req),
    }));
    const tls = config.otlp.tls;
    const ea = config.emitterAuth;
    if (!tls && (ea.default === 'mtls' || [...ea.domains.values()].includes('mtls'))) {
      logger.warn({ emitterAuth: 'mtls' }, 'CHAINSIGHT_EMITTER_AUTH requires mTLS for some trust domains but the receiver has no TLS (CHAINSIGHT_OTLP_TLS_CERT/_KEY): their spans will fail agent.unauthenticated');
    }
    const s = tls ? await listenTls(ingestApp, config.otlp.host, config.otlp.port, tls, auth) : await listen(ingestApp, config.otlp.host, config.otlp.port);
    servers.push(s);
    otlpUrl = urlOf(s, tls ? 'https' : 'http');
  }
  const api = await listen(createApiApp(config, pipeline, logger), config.api.host, config.api.port);
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
