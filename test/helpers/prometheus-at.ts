// Queries evaluated at chosen times (the `time`, `start`, `end` parameters of the HTTP API), for
// differences of raw counter values between two moments: increase() would extrapolate to the window's
// edges.

import type { Sample } from './prometheus.ts';

interface ApiResult<T> {
  status: string;
  data: { result: T[] };
  error?: string;
}

async function api<T>(url: string, path: string, params: Record<string, string>): Promise<T[]> {
  const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
  const body = (await response.json()) as ApiResult<T>;
  if (body.status !== 'success')
    throw new Error(`Prometheus ${path} ${params.query}: ${body.error ?? response.status}`);
  return body.data.result;
}

/** Evaluates `expr` at `time` (Unix seconds) on the Prometheus at `url`; throws on an API error. */
export async function queryAt(url: string, expr: string, time: number): Promise<Sample[]> {
  const result = await api<{ metric: Record<string, string>; value: [number, string] }>(
    url,
    '/api/v1/query',
    {
      query: expr,
      time: time.toFixed(3),
    },
  );
  return result.map((item) => ({ metric: item.metric, value: Number(item.value[1]) }));
}

export interface Series {
  readonly metric: Record<string, string>;
  /** [Unix seconds, value] pairs. */
  readonly values: readonly (readonly [number, number])[];
}

/** Evaluates `expr` every `step` seconds from `start` to `end` (Unix seconds). */
export async function queryRange(
  url: string,
  expr: string,
  start: number,
  end: number,
  step = 1,
): Promise<Series[]> {
  const result = await api<{ metric: Record<string, string>; values: [number, string][] }>(
    url,
    '/api/v1/query_range',
    { query: expr, start: start.toFixed(3), end: end.toFixed(3), step: String(step) },
  );
  return result.map((item) => ({
    metric: item.metric,
    values: item.values.map(([time, value]) => [time, Number(value)] as const),
  }));
}

/** The samples Prometheus stored for `selector` (no function applied) between `start` and `end`. */
export async function samplesBetween(
  url: string,
  selector: string,
  start: number,
  end: number,
): Promise<Series[]> {
  const result = await api<{ metric: Record<string, string>; values: [number, string][] }>(
    url,
    '/api/v1/query',
    {
      query: `${selector}[${Math.ceil(end - start) + 1}s]`,
      time: end.toFixed(3),
    },
  );
  return result.map((item) => ({
    metric: item.metric,
    values: item.values
      .map(([time, value]) => [time, Number(value)] as const)
      .filter(([time]) => time >= start && time <= end),
  }));
}
