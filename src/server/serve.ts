import type { Server } from 'node:http';
import { Registry } from 'prom-client';
import type { CollectorDefinition, RunningCollector } from '../collectors/collector.ts';
import type { ServeConfig } from '../config/serve-config.ts';
import type { Logger } from '../log.ts';
import { createHttpServer, listen } from './http.ts';
import { type CollectorEntry, Scraper } from './scrape.ts';
import { createTelemetry } from './telemetry.ts';

export interface RunningExporter {
  readonly server: Server;
  stop(): Promise<void>;
}

/** Starts the enabled collectors and the HTTP server; rejects if a collector cannot start or the address is taken. */
export async function startExporter(
  config: ServeConfig,
  definitions: readonly CollectorDefinition[],
  version: string,
  log: Logger,
): Promise<RunningExporter> {
  const telemetry = createTelemetry(version);
  const registry = new Registry();
  const enabled = definitions.filter((definition) => config.enabledCollectors.includes(definition.name));
  const running: RunningCollector[] = [];
  const entries: CollectorEntry[] = [];
  const closeCollectors = async (): Promise<void> => {
    for (const collector of running) await collector.close?.();
  };
  try {
    for (const definition of enabled) {
      const collector = await definition.create({
        paths: config.paths,
        settings: config.collectorSettings,
        log,
        meter: telemetry.provider.getMeter(definition.name),
        registry,
      });
      running.push(collector);
      entries.push({ name: definition.name, metrics: definition.metrics, running: collector });
    }
  } catch (error) {
    await closeCollectors();
    throw error;
  }
  const scraper = new Scraper(
    entries,
    (scope) => telemetry.provider.getMeter(scope),
    telemetry.reader,
    log,
    registry,
  );
  const server = createHttpServer(scraper, { ...config, version }, log);
  try {
    await listen(server, config.listenAddress);
  } catch (error) {
    // Collectors may hold workers and timers that would keep the process alive after the failure.
    await closeCollectors();
    throw error;
  }
  return {
    server,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeCollectors();
      await telemetry.provider.shutdown();
    },
  };
}
