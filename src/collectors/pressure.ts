import { procPath, readOptionalText, SourceError } from '../io/host-files.ts';
import { parsePressure } from '../parse/pressure.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

const US_PER_S = 1e6;

export const PRESSURE_METRICS = {
  stallTime: {
    name: 'hostmeter.pressure.stall_time',
    kind: 'counter',
    unit: 's',
    description:
      'Time some (at least one) or full (all non-idle) tasks were stalled waiting for the resource (PSI).',
    labels: ['pressure.resource', 'pressure.scope'],
    availability: 'where /proc/pressure exists (Linux 4.20 and later with PSI enabled)',
  },
} as const satisfies Record<string, ObservedMetricSpec>;

// irq exists since Linux 6.1 with CONFIG_IRQ_TIME_ACCOUNTING and has only a full line.
const RESOURCES = ['cpu', 'memory', 'io', 'irq'] as const;
const SCOPES = ['some', 'full'] as const;

/** A pressure file's text, or undefined when PSI or this resource is compiled out or disabled at boot. */
function readPressure(path: string): string | undefined {
  try {
    return readOptionalText(path);
  } catch (error) {
    // The kernel keeps some pressure files but fails their read when the accounting is switched off.
    if (error instanceof SourceError && error.code === 'EOPNOTSUPP') return undefined;
    throw error;
  }
}

export const pressureCollector: CollectorDefinition = {
  name: 'pressure',
  description: 'Pressure stall time for cpu, memory and io from /proc/pressure',
  defaultEnabled: true,
  metrics: Object.values(PRESSURE_METRICS),
  create: ({ paths }) => ({
    collect() {
      const out = new Observations();
      for (const resource of RESOURCES) {
        const text = readPressure(procPath(paths, 'pressure', resource));
        if (text === undefined) continue;
        const pressure = parsePressure(text, `pressure/${resource}`);
        for (const scope of SCOPES) {
          const us = pressure[scope];
          if (us !== undefined) {
            out.add(PRESSURE_METRICS.stallTime, us / US_PER_S, {
              'pressure.resource': resource,
              'pressure.scope': scope,
            });
          }
        }
      }
      return out;
    },
  }),
};
