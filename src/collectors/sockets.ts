import { procPath, readOptionalText } from '../io/host-files.ts';
import { parseSockstat } from '../parse/sockstat.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const SOCKETS_METRICS = {
  inUse: {
    name: 'hostmeter.network.sockets.in_use',
    kind: 'gauge',
    unit: '{socket}',
    description: 'Sockets in use per transport protocol and IP version.',
    labels: ['network.transport', 'network.type'],
  },
} as const satisfies Record<string, ObservedMetricSpec>;

// A missing file means the IP version is disabled (ipv6.disable=1 removes sockstat6).
const FAMILIES = [
  { type: 'ipv4', sockstat: 'sockstat', suffix: '' },
  { type: 'ipv6', sockstat: 'sockstat6', suffix: '6' },
] as const;

const TRANSPORTS = [
  ['tcp', 'TCP'],
  ['udp', 'UDP'],
  ['udplite', 'UDPLITE'],
  ['raw', 'RAW'],
] as const;

export const socketsCollector: CollectorDefinition = {
  name: 'sockets',
  description: 'Sockets in use per protocol and IP version from /proc/net/sockstat',
  defaultEnabled: true,
  metrics: Object.values(SOCKETS_METRICS),
  create: ({ paths }) => ({
    collect() {
      const out = new Observations();
      for (const family of FAMILIES) {
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
