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
 * and handed to JSON.parse, so memory is bounded by the largest element, not by the answer.
 */
class AnswerScanner {
  readonly fields = new Map<string, unknown>();
  readonly dataFields = new Map<string, unknown>();
  private readonly frames: Frame[] = [];
  private readonly onElement: (element: unknown) => void;
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

  constructor(onElement: (element: unknown) => void, onDataField: (key: string, value: unknown) => void) {
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
    const text = only ? utf8.decode(only) : Buffer.concat(this.pieces).toString('utf8');
    this.pieces = [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new Malformed(`invalid JSON (${(error as Error).message})`);
    }
    const frame = this.frames.at(-1) as Frame;
    if (this.captureIsKey) {
      frame.key = value as string;
      frame.state = 'colon';
      return;
    }
    if (frame.role === 'result') this.onElement(value);
    else if (frame.role === 'data') {
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

/** `afterMs`: samples at or before it are dropped (range selectors are closed on the left before Prometheus 3). */
function toSeries(element: unknown, type: ResultType, afterMs: number): RawSeries {
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
  private readonly endpoint: string;
  private readonly authorization: string | undefined;

  constructor(options: PrometheusClientOptions) {
    this.options = options;
    this.endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/query`;
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

  private async query(
    query: string,
    time: number,
    type: ResultType,
    afterMs: number,
    onSeries: (series: RawSeries) => void,
  ): Promise<number> {
    if (!Number.isFinite(time)) throw new RangeError(`time must be a finite number of seconds, got ${time}`);
    const { retries, backoffMs, log } = this.options;
    let delivered = 0;
    const deliver = (series: RawSeries): boolean => {
      if (series.samples.length === 0) return false;
      delivered++;
      onSeries(series);
      return true;
    };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(query, time, type, afterMs, deliver);
      } catch (error) {
        const transient =
          error instanceof PrometheusError &&
          (error.kind === 'unreachable' || error.kind === 'timeout' || error.kind === 'server');
        // Once series have reached the caller, a second answer would hand them over twice.
        if (!transient || attempt >= retries || delivered > 0) {
          if (transient && delivered > 0)
            throw new PrometheusError(
              error.kind,
              query,
              `${error.message} (after ${delivered} series were delivered, so not retried)`,
              error.status,
            );
          if (transient && retries > 0)
            throw new PrometheusError(
              error.kind,
              query,
              `${error.message} (${attempt + 1} attempts)`,
              error.status,
            );
          throw error;
        }
        const delay = backoffMs * 2 ** attempt;
        log?.warn('Prometheus query failed, retrying', {
          query,
          attempt: attempt + 1,
          retries,
          delay_ms: delay,
          err: error.message,
        });
        await sleep(delay);
      }
    }
  }

  private async attempt(
    query: string,
    time: number,
    type: ResultType,
    afterMs: number,
    deliver: (series: RawSeries) => boolean,
  ): Promise<number> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    // Aborted when we stop reading early (malformed answer, caller's error), so the rest is not downloaded.
    const stop = new AbortController();
    const signal = AbortSignal.any([timeout, stop.signal]);
    const transportError = (error: unknown): PrometheusError =>
      timeout.aborted
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
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    try {
      let response: Response;
      try {
        response = await fetch(this.endpoint, {
          method: 'POST',
          headers,
          body: new URLSearchParams({ query, time: time.toFixed(3) }),
          signal,
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
      const reader = response.body.getReader();
      try {
        for (;;) {
          let next: Awaited<ReturnType<typeof reader.read>>;
          try {
            next = await reader.read();
          } catch (error) {
            throw transportError(error);
          }
          if (next.done) break;
          scanner.push(next.value);
        }
        scanner.end();
      } catch (error) {
        if (error instanceof Malformed) throw malformed(error.message);
        throw error;
      }
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
    } finally {
      stop.abort();
    }
  }
}
