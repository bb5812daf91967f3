import { procPath, readOptionalText } from '../io/host-files.ts';
import { parseNetTcp } from '../parse/net-tcp.ts';
import { parseSockstat } from '../parse/sockstat.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const SOCKETS_METRICS = {
  connections: {
    name: 'system.network.connections',
    kind: 'gauge',
    unit: '{connection}',
    description: 'TCP sockets by connection state, listening sockets included.',
    labels: ['network.transport', 'network.type', 'network.connection.state'],
  },
  inUse: {
    name: 'hostmeter.network.sockets.in_use',
    kind: 'gauge',
    unit: '{socket}',
    description: 'Sockets in use per transport protocol and IP version.',
    labels: ['network.transport', 'network.type'],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

// A missing file means the IP version is disabled (ipv6.disable=1 removes tcp6 and sockstat6).
const FAMILIES = [
  { type: 'ipv4', tcp: 'tcp', sockstat: 'sockstat', suffix: '' },
  { type: 'ipv6', tcp: 'tcp6', sockstat: 'sockstat6', suffix: '6' },
] as const;

const TRANSPORTS = [
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['udplite', 'UDPLITE'],
  ['raw', 'RAW'],
] as const;

export const socketsCollector: CollectorDefinition = {
  name: 'sockets',
  description: 'TCP connections by state and sockets in use per protocol',
  defaultEnabled: true,
  metrics: Object.values(SOCKETS_METRICS),
  create: ({ paths }) => ({
    collect() {
      const out = new Observations();
      for (const family of FAMILIES) {
        const tcp = readOptionalText(procPath(paths, 'net', family.tcp));
        if (tcp !== undefined) {
          for (const [state, count] of Object.entries(parseNetTcp(tcp, `net/${family.tcp}`))) {
            out.add(SOCKETS_METRICS.connections, count, {
              'network.transport': 'tcp',
              'network.type': family.type,
              'network.connection.state': state,
            });
          }
        }
        const sockstatText = readOptionalText(procPath(paths, 'net', family.sockstat));
        if (sockstatText === undefined) continue;
        const sockstat = parseSockstat(sockstatText, `net/${family.sockstat}`);
        for (const [transport, protocol] of TRANSPORTS) {
          const inUse = sockstat.get(`${protocol}${family.suffix}`)?.get('inuse');
          if (inUse === undefined) continue;
          out.add(SOCKETS_METRICS.inUse, inUse, {
            'network.transport': transport,
            'network.type': family.type,
          });
        }
      }
      return out;
    },
  }),
};
