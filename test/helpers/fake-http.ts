// A tiny HTTP server that answers each request with the next scripted response (status, body, delay, or a
// connection reset) and records what it was asked, for testing HTTP clients against faults.

import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBody = string | (() => Iterable<string> | AsyncIterable<string>);

export type FakeResponse =
  | {
      readonly status?: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** A string, or a generator of chunks streamed with back-pressure (for very large answers). */
      readonly body?: FakeBody;
      /** Waits this long before sending anything. */
      readonly delayMs?: number;
      /** Sends the status and body, then resets the connection instead of ending the answer. */
      readonly resetAfterBody?: boolean;
    }
  | { readonly reset: true };

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeHttpServer {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** `script` is either a list (the last response repeats once the list is used up) or a function of the request. */
export type FakeScript =
  | readonly FakeResponse[]
  | ((request: RecordedRequest, index: number) => FakeResponse);

function drainedOrClosed(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

async function writeBody(response: ServerResponse, body: FakeBody): Promise<void> {
  if (typeof body === 'string') {
    response.write(body);
    return;
  }
  for await (const chunk of body()) {
    if (response.destroyed) return;
    // A client that gave up never drains the socket: waiting for 'close' too keeps the server from hanging.
    if (!response.write(chunk)) await drainedOrClosed(response);
  }
}

export async function startFakeHttp(script: FakeScript): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const next = (request: RecordedRequest, index: number): FakeResponse => {
    if (typeof script === 'function') return script(request, index);
    const response = script[Math.min(index, script.length - 1)];
    if (response === undefined) throw new Error('the fake HTTP server has an empty script');
    return response;
  };
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const index = requests.length;
    requests.push(request);
    const response = next(request, index);
    if ('reset' in response) {
      req.socket.resetAndDestroy();
      return;
    }
    if (response.delayMs !== undefined) await sleep(response.delayMs);
    if (res.destroyed) return;
    res.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
    if (response.body !== undefined) await writeBody(res, response.body);
    if (response.resetAfterBody) {
      // Flush what was written, then drop the connection before the final chunk.
      if (res.writableNeedDrain) await once(res, 'drain');
      await new Promise((resolve) => req.socket.write('', resolve));
      req.socket.resetAndDestroy();
      return;
    }
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
