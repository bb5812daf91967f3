import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatQuantity, type Profile, renderJournal } from '../../src/report/journal.ts';
import { computeQuantities, type PartitionQuantities, type Quantities } from '../../src/report/quantities.ts';
import { validateXml } from '../helpers/xmllint.ts';

function quantities(partitions: Record<string, PartitionQuantities>, host: Partial<Quantities['host']> = {}) {
  return {
    host: { zeroEmissionRatio: -1, ...host },
    partitions: new Map(Object.entries(partitions)),
    coverage: 1,
  } satisfies Quantities;
}

const FULL = quantities(
  {
    slappart1: {
      cpuLoadPercent: 131.8,
      memoryUsedMiB: 3072,
      diskUsedMiB: 15360,
      cpuSeconds: 113875.2,
      diskReadBytes: 1e9,
      diskWrittenBytes: 5e8,
    },
    slappart0: { cpuLoadPercent: 12.25, memoryUsedMiB: 812.4375, diskUsedMiB: 2048.5, cpuSeconds: 10584 },
  },
  { cpuLoadPercent: 23.51736111111111, memoryUsedBytes: 6442450944 },
);

/** [resource, reference, quantity] of each movement, in document order. */
function movements(xml: string): string[][] {
  return [
    ...xml.matchAll(
      /<movement><resource>(.*?)<\/resource><title>.*?<\/title><reference>(.*?)<\/reference><quantity>(.*?)<\/quantity>/g,
    ),
  ].map((m) => m.slice(1));
}

function assertValid(xml: string): void {
  const result = validateXml(xml);
  assert.ok(result.ok, result.messages);
}

describe('formatQuantity', () => {
  it('writes integers with .0 and other numbers as their shortest round-trip decimal', () => {
    const cases: [number, string][] = [
      [0, '0.0'],
      [1, '1.0'],
      [-1, '-1.0'],
      [76.4371428571, '76.4371428571'],
      [14211174517, '14211174517.0'],
      [4311.40703125, '4311.40703125'],
      [0.1 + 0.2, '0.30000000000000004'],
      [23.51736111111111, '23.51736111111111'],
      [0.0001, '0.0001'],
    ];
    for (const [value, text] of cases) assert.equal(formatQuantity(value), text, String(value));
  });

  it('never uses an exponent, where Python and JavaScript would', () => {
    assert.equal(formatQuantity(1e-7), '0.0000001');
    assert.equal(formatQuantity(-1.5e-7), '-0.00000015');
    assert.equal(formatQuantity(1e16), '10000000000000000.0');
    assert.equal(formatQuantity(1.25e21), '1250000000000000000000.0');
    assert.equal(formatQuantity(Number.MAX_VALUE), `17976931348623157${'0'.repeat(292)}.0`);
  });

  it('reads back as the same number', () => {
    let x = 0.123456789;
    for (let i = 0; i < 2000; i++) {
      x = (x * 9301 + 49297) % 233280;
      const value = (x / 233280) * 10 ** ((i % 40) - 20) * (i % 2 ? 1 : -1);
      const text = formatQuantity(value);
      assert.match(text, /^-?\d+\.\d+$/);
      assert.equal(Number(text), value, text);
    }
  });

  it('refuses what is not a finite number', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => formatQuantity(value), RangeError);
    }
  });
});

describe('renderJournal', () => {
  it('writes the SlapOS journal, byte for byte', () => {
    const xml = renderJournal('COMP-2734', '2024-03-14', FULL, 'slapos');
    const movement = (resource: string, title: string, reference: string, quantity: string) =>
      `  <movement><resource>${resource}</resource><title>${title}</title><reference>${reference}</reference>` +
      `<quantity>${quantity}</quantity><price>0.0</price><VAT></VAT><category></category></movement>`;
    const expected = [
      "<?xml version='1.0' encoding='utf-8'?>",
      '<journal>',
      ' <transaction type="Sale Packing List">',
      '  <title>Eco Information for COMP-2734</title>',
      '  <start_date>2024-03-14 00:00:00</start_date>',
      '  <stop_date>2024-03-14 23:59:59</stop_date>',
      '  <reference>2024-03-14-global</reference>',
      '  <currency></currency>',
      '  <payment_mode></payment_mode>',
      '  <category></category>',
      '  <arrow type="Destination"/>',
      movement(
        'service_module/cpu_load_percent',
        'CPU Load Percent Average',
        'COMP-2734',
        '23.51736111111111',
      ),
      movement('service_module/memory_used', 'Used Memory', 'COMP-2734', '6442450944.0'),
      movement('service_module/zero_emission_ratio', 'Zero Emission Ratio', 'COMP-2734', '-1.0'),
      movement(
        'service_module/cpu_load_percent',
        'CPU Load Percent Average for slappart0',
        'slappart0',
        '12.25',
      ),
      movement(
        'service_module/cpu_load_percent',
        'CPU Load Percent Average for slappart1',
        'slappart1',
        '131.8',
      ),
      movement('service_module/memory_used', 'Memory Used Average for slappart0', 'slappart0', '812.4375'),
      movement('service_module/memory_used', 'Memory Used Average for slappart1', 'slappart1', '3072.0'),
      movement(
        'service_module/disk_used',
        'Partition Disk Used Average for slappart0',
        'slappart0',
        '2048.5',
      ),
      movement(
        'service_module/disk_used',
        'Partition Disk Used Average for slappart1',
        'slappart1',
        '15360.0',
      ),
      ' </transaction>',
      '</journal>',
      '',
    ].join('\n');
    assert.equal(xml, expected);
    assertValid(xml);
  });

  it('adds the exact totals in the extended profile, after the SlapOS movements', () => {
    const xml = renderJournal('COMP-2734', '2024-03-14', FULL, 'extended');
    assert.deepEqual(movements(xml).slice(9), [
      ['hostmeter/cpu_time_seconds', 'slappart0', '10584.0'],
      ['hostmeter/cpu_time_seconds', 'slappart1', '113875.2'],
      ['hostmeter/disk_read_bytes', 'slappart1', '1000000000.0'],
      ['hostmeter/disk_written_bytes', 'slappart1', '500000000.0'],
    ]);
    assert.match(xml, /<title>CPU Time for slappart0<\/title>/);
    assert.match(xml, /<title>Disk Read for slappart1<\/title>/);
    assert.match(xml, /<title>Disk Written for slappart1<\/title>/);
    assert.equal(
      renderJournal('COMP-2734', '2024-03-14', FULL, 'slapos'),
      xml.replace(/.*hostmeter\/.*\n/g, ''),
    );
    assertValid(xml);
  });

  it('sorts partitions by name and leaves out zero and missing quantities', () => {
    const q = quantities(
      {
        slappart10: { cpuLoadPercent: 0, memoryUsedMiB: 1, cpuSeconds: 0 },
        slappart2: { cpuLoadPercent: 3, diskUsedMiB: 0 },
        _unassigned: { memoryUsedMiB: 0.5 },
        idle: {},
      },
      { cpuLoadPercent: 0 },
    );
    for (const profile of ['slapos', 'extended'] as const) {
      const xml = renderJournal('C', '2024-03-14', q, profile);
      assert.deepEqual(movements(xml), [
        ['service_module/zero_emission_ratio', 'C', '-1.0'],
        ['service_module/cpu_load_percent', 'slappart2', '3.0'],
        ['service_module/memory_used', '_unassigned', '0.5'],
        ['service_module/memory_used', 'slappart10', '1.0'],
      ]);
      assertValid(xml);
    }
  });

  it('always has the zero emission ratio, even without any other quantity', () => {
    const xml = renderJournal('C', '2024-03-14', quantities({}), 'slapos');
    assert.deepEqual(movements(xml), [['service_module/zero_emission_ratio', 'C', '-1.0']]);
    assertValid(xml);
  });

  it('gives identical bytes for identical data, whatever the order of the partitions', () => {
    const entries = [...FULL.partitions];
    const reversed = { ...FULL, partitions: new Map(entries.reverse()) };
    for (const profile of ['slapos', 'extended'] satisfies Profile[]) {
      assert.equal(
        renderJournal('COMP-1', '2024-03-14', FULL, profile),
        renderJournal('COMP-1', '2024-03-14', reversed, profile),
      );
    }
  });

  it('escapes special characters and refuses those XML cannot carry', () => {
    const q = quantities({ 'a&b<c>"d\'': { cpuLoadPercent: 1 } });
    const xml = renderJournal('R&D <"1">', '2024-03-14', q, 'slapos');
    assert.match(xml, /<title>Eco Information for R&amp;D &lt;&quot;1&quot;&gt;<\/title>/);
    assert.match(xml, /<reference>a&amp;b&lt;c&gt;&quot;d&apos;<\/reference>/);
    assert.doesNotMatch(xml, /R&D|a&b/);
    assertValid(xml);
    assert.throws(() => renderJournal('bad\u0001', '2024-03-14', q, 'slapos'), RangeError);
  });

  it('refuses a date that is not a calendar day', () => {
    for (const date of ['2024-02-30', '2024-3-14', '2024-03-14T00:00:00Z', '']) {
      assert.throws(() => renderJournal('C', date, FULL, 'slapos'), RangeError, date);
    }
    assertValid(renderJournal('C', '2024-02-29', FULL, 'slapos'));
  });

  it('validates what computeQuantities gives, for both profiles', () => {
    const from = Date.UTC(2024, 2, 14) / 1000;
    const series = (labels: Record<string, string>, f: (o: number) => number) => ({
      labels,
      baseline: { t: from - 10, v: f(-10) },
      samples: Array.from({ length: 1440 }, (_, i) => ({ t: from + 50 + i * 60, v: f(50 + i * 60) })),
    });
    const q = computeQuantities({
      computer: 'COMP-9',
      date: '2024-03-14',
      window: { from, to: from + 86400 },
      maxGap: 180,
      hostCpu: [series({ cpu_mode: 'user' }, (o) => o / 3), series({ cpu_mode: 'idle' }, (o) => o / 7)],
      memoryLimit: series({}, () => 2 ** 33),
      memoryAvailable: series({}, (o) => 2 ** 32 + o * 1000),
      partitionCpu: [series({ partition: 'slappart0', cpu_mode: 'user' }, (o) => o / 9)],
      partitionProcesses: [series({ partition: 'slappart0' }, () => 4)],
      partitionMemory: [series({ partition: 'slappart0' }, (o) => 2 ** 28 + o)],
      partitionDisk: [series({ partition: 'slappart1' }, () => 12345678)],
      partitionDiskIo: [series({ partition: 'slappart0', disk_io_direction: 'write' }, (o) => o * 4096)],
    });
    for (const profile of ['slapos', 'extended'] satisfies Profile[]) {
      const xml = renderJournal('COMP-9', '2024-03-14', q, profile);
      assert.equal(movements(xml).length, profile === 'slapos' ? 6 : 8);
      assertValid(xml);
    }
  });
});

describe('schema/computer-consumption.xsd', () => {
  const valid = renderJournal('COMP-2734', '2024-03-14', FULL, 'extended');

  it('rejects a movement that lacks a child', () => {
    const broken = valid.replace('<price>0.0</price>', '');
    assert.notEqual(broken, valid);
    assert.equal(validateXml(broken).ok, false);
  });

  it('rejects a journal without movements, an exponent quantity, an unknown resource and a bad date', () => {
    const broken = [
      valid.replace(/ {2}<movement>.*\n/g, ''),
      valid.replace('<quantity>12.25</quantity>', '<quantity>1.225e1</quantity>'),
      valid.replace('hostmeter/disk_read_bytes', 'hostmeter/disk_read'),
      valid.replace('<stop_date>2024-03-14 23:59:59', '<stop_date>2024-03-14 23:59:58'),
      valid.replace('<VAT></VAT>', '<VAT>20</VAT>'),
      valid.replace('type="Sale Packing List"', 'type="Purchase Packing List"'),
    ];
    for (const xml of broken) {
      assert.notEqual(xml, valid);
      assert.equal(validateXml(xml).ok, false, xml);
    }
  });
});
