import { procPath, readText } from '../io/host-files.ts';
import { parseLoadavg } from '../parse/loadavg.ts';
import { type CollectorDefinition, type ObservedMetricSpec, Observations } from './collector.ts';

const loadAverage = (window: '1m' | '5m' | '15m'): ObservedMetricSpec => ({
  name: `system.cpu.load_average.${window}`,
  kind: 'gauge',
  unit: '{thread}',
  description: `Average number of runnable and uninterruptible threads over the last ${window.replace('m', ' minute(s)')}.`,
  labels: [],
});

export const LOAD_METRICS = {
  load1: loadAverage('1m'),
  load5: loadAverage('5m'),
  load15: loadAverage('15m'),
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
