import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The SDK folds attribute sets beyond 2,000 per instrument into one `otel_metric_overflow` series.
 * 256 CPUs × 8 modes already exceed that, so the limit is raised; the scrape loop, not the SDK,
 * decides which series are current.
 */
const CARDINALITY_LIMIT = 100_000;

/** The PrometheusExporter as a pull reader only: our own HTTP server serves what it collects. */
class HostmeterReader extends PrometheusExporter {
  constructor() {
    super({ preventServerStart: true, withoutScopeInfo: true });
  }

  override selectCardinalityLimit(): number {
    return CARDINALITY_LIMIT;
  }
}

export type MetricsReader = Pick<PrometheusExporter, 'collect'>;

export interface Telemetry {
  readonly provider: MeterProvider;
  readonly reader: MetricsReader;
}

export function createTelemetry(version: string): Telemetry {
  const reader = new HostmeterReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'hostmeter', 'service.version': version }),
    readers: [reader],
  });
  return { provider, reader };
}
