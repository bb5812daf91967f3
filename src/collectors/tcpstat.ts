import { procPath, readOptionalText } from '../io/host-files.ts';
import { parseNetTcp } from '../parse/net-tcp.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const TCPSTAT_METRICS = {
  connections: {
    name: 'system.network.connections',
    kind: 'gauge',
    unit: '{connection}',
    description: 'TCP sockets by connection state, listening sockets included.',
    labels: ['network.transport', 'network.type', 'network.connection.state'],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

// A missing file means the IP version is disabled (ipv6.disable=1 removes tcp6).
const FAMILIES = [
  { type: 'ipv4', file: 'tcp' },
  { type: 'ipv6', file: 'tcp6' },
] as const;

/**
 * Off by default, as node_exporter's tcpstat: reading /proc/net/tcp and tcp6 makes the kernel walk its
 * whole socket hash table, 3.1 ms per scrape here even with 20 sockets, half of all the reads of the
 * default collectors together (docs/benchmarks.md).
 */
export const tcpstatCollector: CollectorDefinition = {
  name: 'tcpstat',
  description: 'TCP connections by state from /proc/net/tcp and tcp6 (costly with many sockets)',
  defaultEnabled: false,
  metrics: Object.values(TCPSTAT_METRICS),
  create: ({ paths }) => ({
    collect() {
      const out = new Observations();
      for (const family of FAMILIES) {
        const table = readOptionalText(procPath(paths, 'net', family.file));
        if (table === undefined) continue;
        for (const [state, count] of Object.entries(parseNetTcp(table, `net/${family.file}`))) {
          out.add(TCPSTAT_METRICS.connections, count, {
            'network.transport': 'tcp',
            'network.type': family.type,
            'network.connection.state': state,
          });
        }
      }
      return out;
    },
  }),
};
