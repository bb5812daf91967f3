// Our own node:http server around the scrape loop, so that we own the routes, the content
// negotiation, compression, time-outs and the concurrency limit that the exporter's built-in server
// lacks.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ListenAddress } from '../config/settings.ts';
import type { Logger } from '../log.ts';
import type { Scraper } from './scrape.ts';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface HttpOptions {
  readonly telemetryPath: string;
  readonly scrapeTimeoutMs: number;
  readonly maxRequests: number;
  readonly version: string;
}

/** The q-value the Accept header gives a media type (0 when absent); `*\/*` counts for text/plain only. */
function quality(accept: string, mediaType: string): number {
  let best = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((piece) => piece.trim());
    if (type !== mediaType && !(type === '*/*' && mediaType === 'text/plain')) continue;
    const q = params.find((param) => param.startsWith('q='));
    best = Math.max(best, q ? Number(q.slice(2)) || 0 : 1);
  }
  return best;
}

/** OpenMetrics when the client prefers it (Prometheus does); the 0.0.4 text format otherwise. */
export function negotiateFormat(accept: string | undefined): 'openmetrics' | 'text' {
  if (!accept) return 'text';
  const openMetrics = quality(accept, 'application/openmetrics-text');
  return openMetrics > 0 && openMetrics >= quality(accept, 'text/plain') ? 'openmetrics' : 'text';
}

const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? '').split(',').some((part) => {
    const [coding, q] = part.trim().split(';q=');
    return coding?.trim() === 'gzip' && (q === undefined || Number(q) > 0);
  });

/** Prometheus tells us its own time-out; answering before it gives up is worth more than waiting longer. */
function scrapeTimeoutFor(request: IncomingMessage, configuredMs: number): number {
  const header = Number(request.headers['x-prometheus-scrape-timeout-seconds']);
  if (!Number.isFinite(header) || header <= 0) return configuredMs;
  return Math.min(configuredMs, Math.max(100, header * 1000 - 250));
}

const landingPage = (options: HttpOptions): string => `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>hostmeter</title></head>
<body>
<h1>hostmeter ${options.version}</h1>
<p>Host and per-partition usage metrics for Prometheus.</p>
<ul>
<li><a href="${options.telemetryPath}">Metrics</a></li>
<li><a href="/healthz">Health</a></li>
</ul>
</body>
</html>
`;

export function createHttpServer(scraper: Scraper, options: HttpOptions, log: Logger): Server {
  let activeScrapes = 0;

  const serveMetrics = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (options.maxRequests > 0 && activeScrapes >= options.maxRequests) {
      response.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`too many concurrent scrapes (limit ${options.maxRequests})\n`);
      return;
    }
    activeScrapes++;
    try {
      const exposition = await scraper.scrape(scrapeTimeoutFor(request, options.scrapeTimeoutMs));
      const format = negotiateFormat(request.headers.accept);
      const gzip = acceptsGzip(request.headers['accept-encoding']);
      const body = exposition.body(format, gzip);
      response.writeHead(200, {
        'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE,
        'Content-Length': Buffer.byteLength(body),
        Vary: 'Accept, Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    } finally {
      activeScrapes--;
    }
  };

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('method not allowed\n');
    } else if (path === options.telemetryPath) {
      await serveMetrics(request, response);
    } else if (path === '/healthz') {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('OK\n');
    } else if (path === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end(landingPage(options));
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('not found\n');
    }
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      log.error('request failed', { path: request.url, err: String(error) });
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('internal error\n');
    });
  });
  // A client that never finishes its request must not hold a socket forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = options.scrapeTimeoutMs + 30_000;
  return server;
}

/** Listens, resolving once bound; rejects with the socket error (EADDRINUSE, EACCES...). */
export function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
