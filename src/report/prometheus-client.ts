// Client for Prometheus's HTTP query API, for the nightly report: raw samples of whole-fleet series, streamed
// so that memory stays bounded by one series however large the fleet, with time-outs and bounded retries.

import type { Logger } from '../log.ts';
import type { Sample } from './samples.ts';

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://127.0.0.1:9090 or https://proxy/prometheus. */
  readonly url: string;
  /** Per request, including reading the whole answer. */
  readonly timeoutMs: number;
  /** Extra attempts on network errors, time-outs and 5xx answers (never on 4xx or malformed answers). */
  readonly retries: number;
  /** First delay between attempts, doubled each retry. */
  readonly backoffMs: number;
  /** Whether to accept gzip: saves bandwidth to a distant Prometheus, costs decompression next to one. */
  readonly gzip?: boolean;
  readonly auth?: { readonly bearer: string } | { readonly username: string; readonly password: string };
  readonly log?: Logger;
}

export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'server' | 'client' | 'malformed';

export class PrometheusError extends Error {
  readonly query: string;
  readonly status?: number;
  readonly kind: PrometheusErrorKind;

  constructor(kind: PrometheusErrorKind, query: string, message: string, status?: number) {
    super(message);
    this.name = 'PrometheusError';
    this.kind = kind;
    this.query = query;
    if (status !== undefined) this.status = status;
  }
}

export interface RawSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly Sample[];
}

type ResultType = 'matrix' | 'vector';

/** Thrown while reading an answer whose content is not what the query API promises. */
class Malformed extends Error {}

/** Thrown when the answer's body stops arriving (connection dropped, time-out): the cause is the stream's error. */
class BodyFailed extends Error {}

async function readBody<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new BodyFailed('reading the answer failed', { cause: error });
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

interface Frame {
  readonly role: 'root' | 'data' | 'result';
  state: 'key' | 'colon' | 'value' | 'comma';
  key: string;
  empty: boolean;
}

/**
 * Incremental scanner for `{"status":..,"data":{"resultType":..,"result":[ELEMENT, ...]},"warnings":..}`.
 * Only the root object, `data` and `result` are walked byte by byte; every other value (each element of
 * `result`, each other field) is cut out as one complete JSON text, tracking nesting, strings and escapes,
 * and handed over as bytes (each element of `result`) or to JSON.parse (the rest), so memory is bounded by
 * the largest element, not by the answer.
 */
class AnswerScanner {
  readonly fields = new Map<string, unknown>();
  readonly dataFields = new Map<string, unknown>();
  private readonly frames: Frame[] = [];
  private readonly onElement: (element: Uint8Array) => void;
  private readonly onDataField: (key: string, value: unknown) => void;
  private finished = false;
  /** Whether `data.result` was a list (possibly empty). */
  sawResult = false;
  private capturing = false;
  private captureIsKey = false;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private pieces: Uint8Array[] = [];

  constructor(onElement: (element: Uint8Array) => void, onDataField: (key: string, value: unknown) => void) {
    this.onElement = onElement;
    this.onDataField = onDataField;
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    let captureStart = 0;
    while (i < chunk.length) {
      if (this.capturing) {
        const end = this.scanValue(chunk, i);
        if (end === -1) {
          this.pieces.push(chunk.subarray(captureStart));
          return;
        }
        this.pieces.push(chunk.subarray(captureStart, end));
        this.finishCapture();
        i = end;
        continue;
      }
      const byte = chunk[i] as number;
      if (isWhitespace(byte)) {
        i++;
      } else if (this.structural(byte)) {
        captureStart = i;
      } else {
        i++;
      }
    }
  }

  end(): void {
    if (!this.finished || this.capturing) throw new Malformed('the answer ends early (truncated)');
  }

  /** Returns the index just after the captured value, or -1 when it continues in the next chunk. */
  private scanValue(chunk: Uint8Array, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          if (this.depth === 0) return i + 1;
        }
      } else if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        // At depth 0 the closer ends a number or literal and belongs to the enclosing structure.
        if (this.depth === 0) return i;
        this.depth--;
        if (this.depth === 0) return i + 1;
      } else if (this.depth === 0 && (byte === COMMA || isWhitespace(byte))) {
        return i;
      }
    }
    return -1;
  }

  private beginCapture(isKey: boolean): true {
    this.capturing = true;
    this.captureIsKey = isKey;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.pieces = [];
    return true;
  }

  private finishCapture(): void {
    this.capturing = false;
    const only = this.pieces.length === 1 ? this.pieces[0] : undefined;
    const bytes = only ?? Buffer.concat(this.pieces);
    this.pieces = [];
    const frame = this.frames.at(-1) as Frame;
    if (!this.captureIsKey && frame.role === 'result') {
      this.onElement(bytes);
      return;
    }
    const value = parseJson(utf8.decode(bytes));
    if (this.captureIsKey) {
      frame.key = value as string;
      frame.state = 'colon';
      return;
    }
    if (frame.role === 'data') {
      this.dataFields.set(frame.key, value);
      this.onDataField(frame.key, value);
    } else this.fields.set(frame.key, value);
  }

  /** Handles one non-blank byte outside captured values; true when it starts a value to capture. */
  private structural(byte: number): boolean {
    const frame = this.frames.at(-1);
    if (frame === undefined) {
      if (this.finished) throw new Malformed('unexpected data after the end of the answer');
      if (byte !== OPEN_BRACE) throw new Malformed('the answer is not a JSON object');
      this.frames.push({ role: 'root', state: 'key', key: '', empty: true });
      return false;
    }
    const isObject = frame.role !== 'result';
    const closer = isObject ? CLOSE_BRACE : CLOSE_BRACKET;
    switch (frame.state) {
      case 'key':
        if (byte === QUOTE) {
          frame.empty = false;
          return this.beginCapture(true);
        }
        if (byte === CLOSE_BRACE && frame.empty) return this.close();
        break;
      case 'colon':
        if (byte === COLON) {
          frame.state = 'value';
          return false;
        }
        break;
      case 'value': {
        if (byte === closer && frame.empty) return this.close();
        frame.empty = false;
        frame.state = 'comma';
        const child =
          frame.role === 'root' && frame.key === 'data'
            ? 'data'
            : frame.role === 'data' && frame.key === 'result'
              ? 'result'
              : undefined;
        if (child === undefined) return this.beginCapture(false);
        const opener = child === 'data' ? OPEN_BRACE : OPEN_BRACKET;
        if (byte !== opener)
          throw new Malformed(`"${frame.key}" is not ${child === 'data' ? 'an object' : 'a list'}`);
        if (child === 'result') this.sawResult = true;
        this.frames.push({ role: child, state: child === 'data' ? 'key' : 'value', key: '', empty: true });
        return false;
      }
      case 'comma':
        if (byte === COMMA) {
          frame.state = isObject ? 'key' : 'value';
          return false;
        }
        if (byte === closer) return this.close();
        break;
    }
    throw new Malformed(`unexpected character ${JSON.stringify(String.fromCharCode(byte))}`);
  }

  private close(): false {
    this.frames.pop();
    if (this.frames.length === 0) this.finished = true;
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Malformed(`invalid JSON (${(error as Error).message})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Prometheus writes sample values as strings, with Go's spellings of the special values. */
function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value)) throw new Malformed(`sample value ${JSON.stringify(text)}`);
  return value;
}

function toSample(pair: unknown): Sample {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'number' || typeof pair[1] !== 'string')
    throw new Malformed(`sample ${JSON.stringify(pair)} is not [time, "value"]`);
  return { t: pair[0], v: parseValue(pair[1]) };
}

function toLabels(metric: unknown): Record<string, string> {
  if (!isRecord(metric)) throw new Malformed('a series has no "metric" object');
  for (const value of Object.values(metric))
    if (typeof value !== 'string')
      throw new Malformed(`label value ${JSON.stringify(value)} is not a string`);
  return metric as Record<string, string>;
}

const METRIC_KEY = '{"metric":';
const VALUES_KEY = ',"values":[';

/** Index just after the JSON object starting at `from` (its strings may hold braces), or -1. */
function objectEnd(text: string, from: number): number {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE) depth++;
    else if (code === CLOSE_BRACE && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * Reads `[[1768348800.123,"42"],...]]}` (the values list and the element's end, as Prometheus writes them)
 * from `from`, or returns undefined at anything else. A whole day of samples per series makes the generic
 * JSON.parse, with an array, a string and a number per sample, most of a report's CPU and garbage.
 */
function fastValues(text: string, from: number, afterMs: number): Sample[] | undefined {
  const samples: Sample[] = [];
  let i = from;
  for (;;) {
    if (text.charCodeAt(i) !== OPEN_BRACKET) return undefined;
    i++;
    // Prometheus timestamps have millisecond precision: the integer of milliseconds divided by 1000 is
    // the same double JSON.parse gives for the decimal text.
    let ms = 0;
    let digits = 0;
    let fraction = -1;
    for (; ; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x30 && code <= 0x39) {
        ms = ms * 10 + (code - 0x30);
        digits++;
        if (fraction >= 0) fraction++;
      } else if (code === 0x2e && fraction < 0) fraction = 0;
      else break;
    }
    if (digits === 0 || digits > 15 || fraction > 3 || fraction === 0) return undefined;
    ms *= 10 ** (3 - Math.max(fraction, 0));
    if (text.charCodeAt(i) !== COMMA || text.charCodeAt(i + 1) !== QUOTE) return undefined;
    const valueStart = i + 2;
    const valueEnd = text.indexOf('"', valueStart);
    if (valueEnd === -1 || text.charCodeAt(valueEnd + 1) !== CLOSE_BRACKET) return undefined;
    if (ms > afterMs) samples.push({ t: ms / 1000, v: parseValue(text.slice(valueStart, valueEnd)) });
    i = valueEnd + 2;
    const next = text.charCodeAt(i);
    if (next === COMMA) i++;
    else if (next === CLOSE_BRACKET && text.charCodeAt(i + 1) === CLOSE_BRACE && i + 2 === text.length)
      return samples;
    else return undefined;
  }
}

/** A matrix element as Prometheus writes it, read without JSON.parse of its samples; undefined otherwise. */
function fastMatrixSeries(text: string, afterMs: number): RawSeries | undefined {
  if (!text.startsWith(METRIC_KEY)) return undefined;
  const metricEnd = objectEnd(text, METRIC_KEY.length);
  if (metricEnd === -1 || !text.startsWith(VALUES_KEY, metricEnd)) return undefined;
  const samples = fastValues(text, metricEnd + VALUES_KEY.length, afterMs);
  if (samples === undefined) return undefined;
  return { labels: toLabels(parseJson(text.slice(METRIC_KEY.length, metricEnd))), samples };
}

/** `afterMs`: samples at or before it are dropped (range selectors are closed on the left before Prometheus 3). */
function toSeries(bytes: Uint8Array, type: ResultType, afterMs: number): RawSeries {
  const text = utf8.decode(bytes);
  const fast = type === 'matrix' ? fastMatrixSeries(text, afterMs) : undefined;
  if (fast !== undefined) return fast;
  const element = parseJson(text);
  if (!isRecord(element)) throw new Malformed('a result element is not an object');
  const labels = toLabels(element.metric);
  if (type === 'vector') {
    if ('histogram' in element) throw new Malformed('native histogram samples are not supported');
    return { labels, samples: [toSample(element.value)] };
  }
  if ('histograms' in element) throw new Malformed('native histogram samples are not supported');
  if (!Array.isArray(element.values)) throw new Malformed('a matrix series has no "values" list');
  const samples = element.values.map(toSample).filter((sample) => Math.round(sample.t * 1000) > afterMs);
  return { labels, samples };
}

function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Error answers are small, but a proxy may send a whole page: keep only the beginning. */
async function readErrorBody(response: Response): Promise<string> {
  const limit = 64 * 1024;
  const pieces: Uint8Array[] = [];
  let size = 0;
  if (response.body === null) return '';
  const reader = response.body.getReader();
  while (size < limit) {
    const next = await reader.read();
    if (next.done) break;
    pieces.push(next.value);
    size += next.value.length;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(pieces).toString('utf8');
}

/** `errorType: error` from a Prometheus error answer, or the start of whatever else was sent. */
function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as unknown;
    if (isRecord(body) && typeof body.error === 'string')
      return typeof body.errorType === 'string' ? `${body.errorType}: ${body.error}` : body.error;
  } catch {
    // Not JSON: a proxy's page or plain text.
  }
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}...` : trimmed;
}

export class PrometheusClient {
  private readonly options: PrometheusClientOptions;
  private readonly base: string;
  private readonly authorization: string | undefined;
  private readonly cancelled = new AbortController();

  constructor(options: PrometheusClientOptions) {
    this.options = options;
    this.base = options.url.replace(/\/+$/, '');
    const auth = options.auth;
    if (auth === undefined) this.authorization = undefined;
    else if ('bearer' in auth) this.authorization = `Bearer ${auth.bearer}`;
    else
      this.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  }

  /**
   * Raw samples of `selector` in (time − rangeSeconds, time]: an instant query of `${selector}[${rangeSeconds}s]`
   * at `time` (Unix seconds). Calls onSeries for each series as it is parsed from the streamed answer, and
   * resolves with the number of series. Series with no sample in the interval are left out.
   */
  async rangeSamples(
    selector: string,
    rangeSeconds: number,
    time: number,
    onSeries: (series: RawSeries) => void,
  ): Promise<number> {
    if (!Number.isInteger(rangeSeconds) || rangeSeconds <= 0)
      throw new RangeError(`rangeSeconds must be a positive whole number, got ${rangeSeconds}`);
    const afterMs = Math.round((time - rangeSeconds) * 1000);
    return this.query(`${selector}[${rangeSeconds}s]`, time, 'matrix', afterMs, onSeries);
  }

  /** Instant vector query at `time`: calls onSeries with one-sample series (the sample's own timestamp). */
  instant(expr: string, time: number, onSeries: (series: RawSeries) => void): Promise<number> {
    return this.query(expr, time, 'vector', Number.NEGATIVE_INFINITY, onSeries);
  }

  /** Stops every request in flight or waiting for a retry, and every later one, with a PrometheusError. */
  cancel(): void {
    this.cancelled.abort();
  }

  /**
   * Values of `label` on the series that match any of `selectors` in [start, end] (Unix seconds), sorted:
   * read from Prometheus's index, without loading samples.
   */
  labelValues(label: string, selectors: readonly string[], start: number, end: number): Promise<string[]> {
    const params = new URLSearchParams({ start: start.toFixed(3), end: end.toFixed(3) });
    for (const selector of selectors) params.append('match[]', selector);
    const path = `/api/v1/label/${encodeURIComponent(label)}/values?${params}`;
    return this.retrying(
      path,
      () => 0,
      () =>
        this.request(path, { path, method: 'GET' }, async (response, malformed) => {
          const body = parseJson(await readBody(() => response.text()));
          if (isRecord(body) && body.status === 'error')
            throw new PrometheusError(
              'client',
              path,
              `Prometheus rejected the request "${path}": ${String(body.errorType ?? 'error')}: ${String(body.error ?? '')}`,
              response.status,
            );
          if (!isRecord(body) || body.status !== 'success' || !Array.isArray(body.data))
            throw malformed('expected {"status":"success","data":[...]}');
          const values = body.data as unknown[];
          if (!values.every((value) => typeof value === 'string'))
            throw malformed('a label value is not a string');
          return (values as string[]).sort();
        }),
    );
  }

  private query(
    query: string,
    time: number,
    type: ResultType,
    afterMs: number,
    onSeries: (series: RawSeries) => void,
  ): Promise<number> {
    if (!Number.isFinite(time)) throw new RangeError(`time must be a finite number of seconds, got ${time}`);
    let delivered = 0;
    const deliver = (series: RawSeries): boolean => {
      if (series.samples.length === 0) return false;
      delivered++;
      onSeries(series);
      return true;
    };
    const body = new URLSearchParams({ query, time: time.toFixed(3) });
    // Once series have reached the caller, a second answer would hand them over twice.
    return this.retrying(
      query,
      () => delivered,
      () =>
        this.request(query, { path: '/api/v1/query', method: 'POST', body }, (response, malformed) =>
          readAnswer(query, response, type, afterMs, deliver, malformed),
        ),
    );
  }

  /** Runs `attempt` again after transient failures (unreachable, time-out, 5xx) while nothing was `delivered`. */
  private async retrying<T>(query: string, delivered: () => number, attempt: () => Promise<T>): Promise<T> {
    const { retries, backoffMs, log } = this.options;
    for (let count = 0; ; count++) {
      try {
        return await attempt();
      } catch (error) {
        const transient =
          error instanceof PrometheusError &&
          (error.kind === 'unreachable' || error.kind === 'timeout' || error.kind === 'server');
        if (!transient || count >= retries || delivered() > 0 || this.cancelled.signal.aborted) {
          if (transient && delivered() > 0)
            throw new PrometheusError(
              error.kind,
              query,
              `${error.message} (after ${delivered()} series were delivered, so not retried)`,
              error.status,
            );
          if (transient && retries > 0)
            throw new PrometheusError(
              error.kind,
              query,
              `${error.message} (${count + 1} attempts)`,
              error.status,
            );
          throw error;
        }
        const delay = backoffMs * 2 ** count;
        log?.warn('Prometheus query failed, retrying', {
          query,
          attempt: count + 1,
          retries,
          delay_ms: delay,
          err: error.message,
        });
        await sleep(delay);
      }
    }
  }

  /**
   * One HTTP request to `init.path` under the base URL: 4xx and 5xx answers become PrometheusErrors naming
   * `query` (the PromQL, or the path); a 200 answer is handed to `read` within the same time-out.
   */
  private async request<T>(
    query: string,
    init: { readonly path: string; readonly method: 'GET' | 'POST'; readonly body?: URLSearchParams },
    read: (response: Response, malformed: (detail: string) => PrometheusError) => Promise<T>,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    // Aborted when we stop reading early (malformed answer, caller's error), so the rest is not downloaded.
    const stop = new AbortController();
    const signal = AbortSignal.any([timeout, stop.signal, this.cancelled.signal]);
    const transportError = (error: unknown): PrometheusError =>
      this.cancelled.signal.aborted
        ? new PrometheusError('unreachable', query, `the query "${query}" was cancelled`)
        : timeout.aborted
          ? new PrometheusError(
              'timeout',
              query,
              `Prometheus at ${this.options.url} did not answer the query "${query}" within ${this.options.timeoutMs} ms`,
            )
          : new PrometheusError(
              'unreachable',
              query,
              `Prometheus at ${this.options.url} is unreachable for the query "${query}": ${describeError(error)}`,
            );
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.options.gzip === false) headers['accept-encoding'] = 'identity';
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    try {
      let response: Response;
      try {
        response = await fetch(`${this.base}${init.path}`, {
          method: init.method,
          headers,
          signal,
          ...(init.body && { body: init.body }),
        });
      } catch (error) {
        throw transportError(error);
      }
      if (response.status >= 400) {
        let detail: string;
        try {
          detail = errorDetail(await readErrorBody(response));
        } catch (error) {
          throw transportError(error);
        }
        const status = response.status;
        if (status >= 500)
          throw new PrometheusError(
            'server',
            query,
            `Prometheus failed the query "${query}": ${status} ${detail}`,
            status,
          );
        throw new PrometheusError(
          'client',
          query,
          `Prometheus rejected the query "${query}": ${status} ${detail}`,
          status,
        );
      }
      const malformed = (detail: string): PrometheusError =>
        new PrometheusError(
          'malformed',
          query,
          `Prometheus sent a malformed answer to the query "${query}": ${detail}`,
          response.status,
        );
      if (response.status !== 200 || response.body === null)
        throw malformed(`unexpected status ${response.status}`);
      try {
        return await read(response, malformed);
      } catch (error) {
        if (error instanceof PrometheusError) throw error;
        if (error instanceof Malformed) throw malformed(error.message);
        if (error instanceof BodyFailed) throw transportError(error.cause);
        throw error;
      }
    } finally {
      stop.abort();
    }
  }
}

/** Reads a query answer as it streams, handing each series to `deliver`; resolves with the number delivered. */
async function readAnswer(
  query: string,
  response: Response,
  type: ResultType,
  afterMs: number,
  deliver: (series: RawSeries) => boolean,
  malformed: (detail: string) => PrometheusError,
): Promise<number> {
  let count = 0;
  const scanner = new AnswerScanner(
    (element) => {
      if (deliver(toSeries(element, type, afterMs))) count++;
    },
    (key, value) => {
      if (key === 'resultType' && value !== type)
        throw new Malformed(`expected a ${type} result, got ${JSON.stringify(value)}`);
    },
  );
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const next = await readBody(() => reader.read());
    if (next.done) break;
    scanner.push(next.value);
  }
  scanner.end();
  const status = scanner.fields.get('status');
  if (status === 'error') {
    const error = scanner.fields.get('error');
    const errorType = scanner.fields.get('errorType');
    throw new PrometheusError(
      'client',
      query,
      `Prometheus rejected the query "${query}": ${response.status} ${String(errorType ?? 'error')}: ${String(error ?? '')}`,
      response.status,
    );
  }
  if (status !== 'success') throw malformed(`status ${JSON.stringify(status)}`);
  if (!scanner.sawResult) throw malformed('no "data.result" list');
  if (scanner.dataFields.get('resultType') !== type) throw malformed(`no "data.resultType" ${type}`);
  return count;
}
