// Instant queries evaluated at a chosen time (the `time` parameter of /api/v1/query), for differences of
// raw counter values between two moments: increase() would extrapolate to the window's edges.

import type { Sample } from './prometheus.ts';

/** Evaluates `expr` at `time` (Unix seconds) on the Prometheus at `url`; throws on an API error. */
export async function queryAt(url: string, expr: string, time: number): Promise<Sample[]> {
  const response = await fetch(
    `${url}/api/v1/query?query=${encodeURIComponent(expr)}&time=${time.toFixed(3)}`,
  );
  const body = (await response.json()) as {
    status: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    error?: string;
  };
  if (body.status !== 'success')
    throw new Error(`Prometheus query ${expr}: ${body.error ?? response.status}`);
  return body.data.result.map((item) => ({ metric: item.metric, value: Number(item.value[1]) }));
}
