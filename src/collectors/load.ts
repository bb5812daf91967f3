import { procPath, readText } from '../io/host-files.ts';
import { parseLoadavg } from '../parse/loadavg.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

const loadAverage = (window: '1m' | '5m' | '15m', span: string): ObservedMetricSpec => ({
  name: `system.cpu.load_average.${window}`,
  kind: 'gauge',
  unit: '{thread}',
  description: `Average number of runnable and uninterruptible threads over the last ${span}.`,
  labels: [],
});

export const LOAD_METRICS = {
  load1: loadAverage('1m', 'minute'),
  load5: loadAverage('5m', '5 minutes'),
  load15: loadAverage('15m', '15 minutes'),
} as const;

export const loadCollector: CollectorDefinition = {
  name: 'load',
  description: '1, 5 and 15-minute load averages from /proc/loadavg',
  defaultEnabled: true,
  metrics: Object.values(LOAD_METRICS),
  create: ({ paths }) => ({
    collect() {
      const load = parseLoadavg(readText(procPath(paths, 'loadavg')));
      const out = new Observations();
      out.add(LOAD_METRICS.load1, load.load1);
      out.add(LOAD_METRICS.load5, load.load5);
      out.add(LOAD_METRICS.load15, load.load15);
      return out;
    },
  }),
};
