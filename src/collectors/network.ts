import { procPath, readOptionalText, readText, SourceError, sysPath } from '../io/host-files.ts';
import { type InterfaceStats, parseNetDev } from '../parse/net-dev.ts';
import { ParseError, parseCount, parseDecimal } from '../parse/parse-error.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

const DIRECTION_LABELS = ['network.interface.name', 'network.io.direction'] as const;
const INTERFACE_LABELS = ['network.interface.name'] as const;

export const NETWORK_METRICS = {
  io: {
    name: 'system.network.io',
    kind: 'counter',
    unit: 'By',
    description: 'Bytes received or transmitted by the network interface.',
    labels: DIRECTION_LABELS,
  },
  packets: {
    name: 'system.network.packet.count',
    kind: 'counter',
    unit: '{packet}',
    description: 'Packets received or transmitted by the network interface.',
    labels: DIRECTION_LABELS,
  },
  errors: {
    name: 'system.network.errors',
    kind: 'counter',
    unit: '{error}',
    description: 'Receive or transmit errors detected by the network interface driver.',
    labels: DIRECTION_LABELS,
  },
  dropped: {
    name: 'system.network.packet.dropped',
    kind: 'counter',
    unit: '{packet}',
    description: 'Packets dropped on receive or transmit by the network interface.',
    labels: DIRECTION_LABELS,
  },
  up: {
    name: 'hostmeter.network.interface.up',
    kind: 'gauge',
    unit: '',
    description: 'Whether the network interface is operationally up (1) or not (0).',
    labels: INTERFACE_LABELS,
  },
  mtu: {
    name: 'hostmeter.network.interface.mtu',
    kind: 'gauge',
    unit: 'By',
    description: 'Maximum transmission unit of the network interface.',
    labels: INTERFACE_LABELS,
  },
  speed: {
    name: 'hostmeter.network.interface.speed',
    kind: 'gauge',
    unit: 'By/s',
    description: 'Negotiated link speed of the network interface, when the driver reports one.',
    labels: INTERFACE_LABELS,
    availability: 'for interfaces whose driver reports a link speed',
  },
} as const satisfies Record<string, ObservedMetricSpec>;

const DIRECTIONS = ['receive', 'transmit'] as const;
const MBIT_BYTES = 1e6 / 8;
const IFF_UP = 0x1;

/** A sysfs attribute of the interface, or undefined when the interface vanished since net/dev was read. */
const readAttribute = (sysfs: string, name: string, attribute: string): string | undefined =>
  readOptionalText(`${sysfs}/${name}/${attribute}`)?.trim();

/**
 * 1 when operstate is `up`. Drivers without carrier tracking (loopback, tun, some virtual devices)
 * leave operstate at `unknown` forever, so for them the administrative IFF_UP flag is the best answer;
 * without it lo would always read as down.
 */
function interfaceUp(sysfs: string, name: string): number | undefined {
  const operstate = readAttribute(sysfs, name, 'operstate');
  if (operstate !== 'unknown') return operstate === undefined ? undefined : Number(operstate === 'up');
  const flags = readAttribute(sysfs, name, 'flags');
  if (flags === undefined) return undefined;
  if (!/^0x[0-9a-f]+$/i.test(flags)) {
    throw new ParseError(`${name}/flags`, `expected a hex number, got ${JSON.stringify(flags)}`);
  }
  return Number.parseInt(flags, 16) & IFF_UP;
}

/** Link speed in Mbit/s; virtual interfaces refuse the read with EINVAL and links without carrier report -1. */
function speedMbits(sysfs: string, name: string): number | undefined {
  let text: string | undefined;
  try {
    text = readAttribute(sysfs, name, 'speed');
  } catch (error) {
    if (error instanceof SourceError && error.code === 'EINVAL') return undefined;
    throw error;
  }
  if (text === undefined) return undefined;
  const speed = parseDecimal(text, `${name}/speed`, 'speed');
  return speed >= 0 ? speed : undefined;
}

function observeInterface(out: Observations, sysfs: string, stats: InterfaceStats): void {
  const name = { 'network.interface.name': stats.name };
  for (const direction of DIRECTIONS) {
    const attributes = { ...name, 'network.io.direction': direction };
    out.add(NETWORK_METRICS.io, stats[direction].bytes, attributes);
    out.add(NETWORK_METRICS.packets, stats[direction].packets, attributes);
    out.add(NETWORK_METRICS.errors, stats[direction].errors, attributes);
    out.add(NETWORK_METRICS.dropped, stats[direction].dropped, attributes);
  }
  const up = interfaceUp(sysfs, stats.name);
  if (up !== undefined) out.add(NETWORK_METRICS.up, up, name);
  const mtu = readAttribute(sysfs, stats.name, 'mtu');
  if (mtu !== undefined) out.add(NETWORK_METRICS.mtu, parseCount(mtu, `${stats.name}/mtu`, 'mtu'), name);
  const speed = speedMbits(sysfs, stats.name);
  if (speed !== undefined) out.add(NETWORK_METRICS.speed, speed * MBIT_BYTES, name);
}

export const networkCollector: CollectorDefinition = {
  name: 'network',
  description: 'Per interface traffic, packets, errors and drops, link state, MTU and speed',
  defaultEnabled: true,
  metrics: Object.values(NETWORK_METRICS),
  create: ({ paths, settings }) => ({
    collect() {
      const sysfs = sysPath(paths, 'class', 'net');
      const out = new Observations();
      for (const stats of parseNetDev(readText(procPath(paths, 'net', 'dev')))) {
        if (!settings.network.deviceExclude.test(stats.name)) observeInterface(out, sysfs, stats);
      }
      return out;
    },
  }),
};
