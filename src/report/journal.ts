// SlapOS's computer consumption "journal" (TioXML) for one computer and UTC day, as `slapos node collect`
// writes it (slapos.collect reporter.Journal), validated by schema/computer-consumption.xsd.
//
// Movements, in this order (a zero or unknown quantity gives no movement: the master rejects zeros):
//   reference = the computer:
//     service_module/cpu_load_percent     CPU Load Percent Average    % of the whole host
//     service_module/memory_used          Used Memory                 bytes
//     service_module/zero_emission_ratio  Zero Emission Ratio         always present, -1 when unknown
//   reference = each partition, sorted by name (UTF-16 code units), one resource after the other:
//     service_module/cpu_load_percent     CPU Load Percent Average for P          % of one core
//     service_module/memory_used          Memory Used Average for P               MiB
//     service_module/disk_used            Partition Disk Used Average for P       MiB
//   profile `extended` only (resources of hostmeter's own, unknown to a SlapOS master), exact day totals:
//     hostmeter/cpu_time_seconds          CPU Time for P                          seconds, user + system
//     hostmeter/disk_read_bytes           Disk Read for P                         bytes read from storage
//     hostmeter/disk_written_bytes        Disk Written for P                      bytes written to storage
//
// Layout: SlapOS writes everything on one line; here the declaration (SlapOS's, single quotes) is followed
// by one element per line and one line per movement, indented by one space per level, ending in a newline.
// The output depends only on the arguments, so the same data always gives the same bytes.

import type { PartitionQuantities, Quantities } from './quantities.ts';

export type Profile = 'slapos' | 'extended';

interface Movement {
  readonly resource: string;
  readonly title: string;
  readonly reference: string;
  readonly quantity: number | undefined;
}

interface PartitionResource {
  readonly resource: string;
  readonly title: (partition: string) => string;
  readonly quantity: (q: PartitionQuantities) => number | undefined;
}

const SLAPOS_PARTITION_RESOURCES: readonly PartitionResource[] = [
  {
    resource: 'service_module/cpu_load_percent',
    title: (p) => `CPU Load Percent Average for ${p}`,
    quantity: (q) => q.cpuLoadPercent,
  },
  {
    resource: 'service_module/memory_used',
    title: (p) => `Memory Used Average for ${p}`,
    quantity: (q) => q.memoryUsedMiB,
  },
  {
    resource: 'service_module/disk_used',
    title: (p) => `Partition Disk Used Average for ${p}`,
    quantity: (q) => q.diskUsedMiB,
  },
];

const EXTENDED_PARTITION_RESOURCES: readonly PartitionResource[] = [
  {
    resource: 'hostmeter/cpu_time_seconds',
    title: (p) => `CPU Time for ${p}`,
    quantity: (q) => q.cpuSeconds,
  },
  {
    resource: 'hostmeter/disk_read_bytes',
    title: (p) => `Disk Read for ${p}`,
    quantity: (q) => q.diskReadBytes,
  },
  {
    resource: 'hostmeter/disk_written_bytes',
    title: (p) => `Disk Written for ${p}`,
    quantity: (q) => q.diskWrittenBytes,
  },
];

/**
 * The number as Python's str(float) writes it between 1e-4 and 1e16: the shortest decimal that reads back
 * as the same double, with `.0` on integers. Unlike Python (and JavaScript), never in exponent notation, so
 * every quantity has one plain decimal form (`-?digits.digits`) that any float parser reads.
 */
export function formatQuantity(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`quantity is not a finite number: ${value}`);
  if (value === 0) return '0.0';
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(value));
  if (match === null) throw new RangeError(`unexpected number format: ${value}`);
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponent);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

// Characters XML 1.0 cannot carry at all, escaped or not.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeText(text: string): string {
  if (NOT_XML_CHAR.test(text)) throw new RangeError(`text cannot be written in XML: ${JSON.stringify(text)}`);
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const element = (name: string, text = ''): string => `<${name}>${escapeText(text)}</${name}>`;

function renderMovement(m: Movement & { readonly quantity: number }): string {
  return (
    '  <movement>' +
    element('resource', m.resource) +
    element('title', m.title) +
    element('reference', m.reference) +
    element('quantity', formatQuantity(m.quantity)) +
    element('price', '0.0') +
    element('VAT') +
    element('category') +
    '</movement>'
  );
}

function movements(computer: string, quantities: Quantities, profile: Profile): Movement[] {
  const host: Movement[] = [
    {
      resource: 'service_module/cpu_load_percent',
      title: 'CPU Load Percent Average',
      reference: computer,
      quantity: quantities.host.cpuLoadPercent,
    },
    {
      resource: 'service_module/memory_used',
      title: 'Used Memory',
      reference: computer,
      quantity: quantities.host.memoryUsedBytes,
    },
    {
      resource: 'service_module/zero_emission_ratio',
      title: 'Zero Emission Ratio',
      reference: computer,
      quantity: quantities.host.zeroEmissionRatio,
    },
  ];
  const resources =
    profile === 'extended'
      ? [...SLAPOS_PARTITION_RESOURCES, ...EXTENDED_PARTITION_RESOURCES]
      : SLAPOS_PARTITION_RESOURCES;
  const partitions = [...quantities.partitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    ...host,
    ...resources.flatMap((r) =>
      partitions.map(([name, q]) => ({
        resource: r.resource,
        title: r.title(name),
        reference: name,
        quantity: r.quantity(q),
      })),
    ),
  ];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function checkDate(date: string): void {
  const parsed = new Date(`${date}T00:00:00Z`);
  if (!DATE.test(date) || Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
    throw new RangeError(`not a calendar date (YYYY-MM-DD): ${JSON.stringify(date)}`);
  }
}

/** The journal XML of `computer` for the UTC day `date` (YYYY-MM-DD). */
export function renderJournal(
  computer: string,
  date: string,
  quantities: Quantities,
  profile: Profile,
): string {
  checkDate(date);
  const lines = [
    "<?xml version='1.0' encoding='utf-8'?>",
    '<journal>',
    ' <transaction type="Sale Packing List">',
    `  ${element('title', `Eco Information for ${computer}`)}`,
    `  ${element('start_date', `${date} 00:00:00`)}`,
    `  ${element('stop_date', `${date} 23:59:59`)}`,
    `  ${element('reference', `${date}-global`)}`,
    `  ${element('currency')}`,
    `  ${element('payment_mode')}`,
    `  ${element('category')}`,
    '  <arrow type="Destination"/>',
    ...movements(computer, quantities, profile).flatMap((m) =>
      m.quantity === undefined || m.quantity === 0 ? [] : [renderMovement({ ...m, quantity: m.quantity })],
    ),
    ' </transaction>',
    '</journal>',
  ];
  return `${lines.join('\n')}\n`;
}
