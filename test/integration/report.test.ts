// `hostmeter report` end to end: a synthetic fleet (test/helpers/synthetic-day.ts) is backfilled into a real
// Prometheus, and every quantity of every report is checked against its value computed analytically from
// the fleet's parameters under the rules of src/report/quantities.ts:
// - a counter's day total is its growth between the last sample at or before the window's start (b0) and
//   the last sample at or before its end (b1), less what a reset lost (the growth between the sample
//   before the reset and the reset, which no sample saw);
// - a gauge sample holds until the next sample, for at most --max-gap (5 min); the covered time C is the
//   window less what no sample holds;
// - a partition's active time is its activity within C; its CPU % is its CPU seconds over the active
//   time, a delta across a gap counting for its first 5 minutes only (pro rata);
// - memory averages weigh by time within the active time (partitions) or C (host), disk within C.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrometheusClient } from '../../src/report/prometheus-client.ts';
import { exactValuesMatcher } from '../../src/report/run.ts';
import { type BackfilledPrometheus, startBackfilledPrometheus } from '../helpers/backfill.ts';
import type { CommandResult } from '../helpers/hostmeter.ts';
import { hostmeterAsync } from '../helpers/hostmeter.ts';
import {
  type ComputerSpec,
  DATA_FROM,
  DATA_TO,
  DAY,
  DAY_SECONDS,
  DAY_START,
  FLEET,
  HOUR,
  IDLE_MODES,
  type Interval,
  MIB,
  measure,
  NEXT_DAY,
  openMetrics,
  type Piecewise,
  STEP,
} from '../helpers/synthetic-day.ts';
import { validateXml } from '../helpers/xmllint.ts';

const MAX_GAP = 300;
const RELATIVE_ERROR = 1e-9;

type Journal = Map<string, number>;
const key = (resource: string, reference: string): string => `${resource} ${reference}`;

/** The movements of a journal, by resource and reference; the document must be valid against the XSD. */
function parseJournal(xml: string): Journal {
  const validation = validateXml(xml);
  assert.ok(validation.ok, `invalid journal: ${validation.messages}\n${xml}`);
  const movements: Journal = new Map();
  const pattern =
    /<movement><resource>([^<]+)<\/resource><title>[^<]+<\/title><reference>([^<]+)<\/reference><quantity>([^<]+)<\/quantity>/g;
  for (const [, resource = '', reference = '', quantity = ''] of xml.matchAll(pattern)) {
    const k = key(resource, reference);
    assert.ok(!movements.has(k), `movement ${k} appears twice`);
    movements.set(k, Number(quantity));
  }
  assert.equal((xml.match(/<movement>/g) ?? []).length, movements.size);
  return movements;
}

// ---- The analytic expectation ------------------------------------------------------------------------

const intersect = (a: readonly Interval[], b: readonly Interval[]): Interval[] =>
  a.flatMap((x) =>
    b.map((y) => ({ from: Math.max(x.from, y.from), to: Math.min(x.to, y.to) })).filter((i) => i.to > i.from),
  );

const length = (intervals: readonly Interval[]): number => measure(intervals, -Infinity, Infinity);

/** ∫ f over `intervals`, f piecewise constant. */
function integral(f: Piecewise, intervals: readonly Interval[]): number {
  return f.reduce((sum, [from, value], i) => {
    const to = f[i + 1]?.[0] ?? Infinity;
    return sum + value * measure(intervals, from, to);
  }, 0);
}

/** The last sample time of `c` at or before t (no gap there in this fleet). */
const sampleAtOrBefore = (c: ComputerSpec, t: number): number =>
  Math.min(Math.floor((t - c.phase) / STEP) * STEP + c.phase, DATA_TO - STEP + c.phase);
const sampleBefore = (c: ComputerSpec, t: number): number => sampleAtOrBefore(c, t - 1);
const sampleAtOrAfter = (c: ComputerSpec, t: number): number =>
  Math.ceil((t - c.phase) / STEP) * STEP + c.phase;

/** A partition active until the end of the data stays active as long as its last sample holds. */
const activity = (active: readonly Interval[]): Interval[] =>
  active.map((i) => (i.to >= DATA_TO ? { from: i.from, to: Infinity } : i));

interface Expected {
  readonly movements: Journal;
  readonly coverage: number;
}

/** The journal of `c` for the window [from, to] (seconds relative to DAY_START), from the fleet's parameters. */
function expectedJournal(
  c: ComputerSpec,
  window: Interval,
  profile: 'slapos' | 'extended',
  computer = c.instance,
): Expected {
  const b0 = sampleAtOrBefore(c, window.from);
  const b1 = sampleAtOrBefore(c, window.to);
  // Pairs of samples farther apart than MAX_GAP: each gap, and the end of the data.
  const gaps = c.gaps.map((g) => ({ from: sampleBefore(c, g.from), to: sampleAtOrAfter(c, g.to) }));
  const holes = [...gaps, { from: DATA_TO - STEP + c.phase, to: Infinity }].map((g) => ({
    from: g.from + MAX_GAP,
    to: g.to,
  }));
  let covered: Interval[] = [window];
  for (const hole of holes) {
    covered = covered.flatMap((i) =>
      [
        { from: i.from, to: Math.min(i.to, hole.from) },
        { from: Math.max(i.from, hole.to), to: i.to },
      ].filter((part) => part.to > part.from),
    );
  }
  const coveredSeconds = length(covered);

  /** What a counter growing at `rate` during `active` gained in the window, as the report counts it. */
  const increase = (rate: number, active: readonly Interval[]): number => {
    let total = rate * measure(active, b0, b1);
    if (c.reset !== undefined && c.reset > b0 && c.reset <= b1)
      total -= rate * measure(active, sampleBefore(c, c.reset), c.reset);
    return total;
  };
  const always: Interval[] = [{ from: DATA_FROM, to: DATA_TO }];

  const movements: Journal = new Map();
  const put = (resource: string, reference: string, quantity: number | undefined): void => {
    if (quantity !== undefined && quantity !== 0) movements.set(key(resource, reference), quantity);
  };
  const all = c.cpus.flatMap((modes) => Object.entries(modes));
  const cpu = (entries: [string, number][]): number =>
    entries.reduce((sum, [, rate]) => sum + increase(rate, always), 0);
  put(
    'service_module/cpu_load_percent',
    computer,
    (cpu(all.filter(([mode]) => !IDLE_MODES.has(mode))) / cpu(all)) * 100,
  );
  put(
    'service_module/memory_used',
    computer,
    c.memoryLimit - integral(c.available, covered) / coveredSeconds,
  );
  put('service_module/zero_emission_ratio', computer, -1);
  for (const p of c.partitions) {
    if (profile === 'slapos' && p.name === '_unassigned') continue;
    const cpuSeconds = increase(p.cpuRate, p.active);
    let cpuInCoveredTime = cpuSeconds;
    for (const g of gaps) {
      if (g.to <= b0 || g.to > b1) continue;
      const delta = p.cpuRate * measure(p.active, g.from, g.to);
      cpuInCoveredTime -= delta * (1 - MAX_GAP / (g.to - g.from));
    }
    const active = intersect(activity(p.active), covered);
    const activeSeconds = length(active);
    put(
      'service_module/cpu_load_percent',
      p.name,
      activeSeconds > 0 ? (cpuInCoveredTime / activeSeconds) * 100 : undefined,
    );
    put(
      'service_module/memory_used',
      p.name,
      activeSeconds > 0 ? integral(p.memory, active) / activeSeconds / MIB : undefined,
    );
    put(
      'service_module/disk_used',
      p.name,
      p.disk === undefined ? undefined : integral(p.disk, covered) / coveredSeconds / MIB,
    );
    if (profile === 'extended') {
      put('hostmeter/cpu_time_seconds', p.name, cpuSeconds);
      put('hostmeter/disk_read_bytes', p.name, increase(p.readRate, p.active));
      put('hostmeter/disk_written_bytes', p.name, increase(p.writeRate, p.active));
    }
  }
  return { movements, coverage: coveredSeconds / (window.to - window.from) };
}

function assertClose(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined, `${what}: missing, expected ${expected}`);
  const error = Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  assert.ok(error <= RELATIVE_ERROR, `${what}: ${actual}, expected ${expected} (relative error ${error})`);
}

function assertJournal(actual: Journal, expected: Journal, what: string): void {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: the movements`);
  for (const [k, value] of expected) assertClose(actual.get(k), value, `${what}: ${k}`);
}

const spec = (instance: string): ComputerSpec => {
  const c = FLEET.find((computer) => computer.instance === instance);
  assert.ok(c, instance);
  return c;
};

const WHOLE_DAY: Interval = { from: 0, to: DAY_SECONDS };

// ---- The runs ---------------------------------------------------------------------------------------

describe('hostmeter report on a backfilled Prometheus', () => {
  let prometheus: BackfilledPrometheus;
  const dirs: string[] = [];

  const outputDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'hm-report-'));
    dirs.push(dir);
    return dir;
  };
  const report = (dir: string, ...args: string[]): Promise<CommandResult> =>
    hostmeterAsync(['report', `--prometheus.url=${prometheus.url}`, `--output.dir=${dir}`, ...args]);
  const journalOf = (dir: string, computer: string, label = DAY): Journal =>
    parseJournal(readFileSync(join(dir, computer, `${label}.xml`), 'utf8'));

  /** One clean run per profile, shared by the tests that compare against it. */
  const clean = new Map<string, string>();
  const cleanRun = async (profile: 'slapos' | 'extended', date = DAY): Promise<string> => {
    const id = `${profile} ${date}`;
    const known = clean.get(id);
    if (known !== undefined) return known;
    const dir = outputDir();
    const result = await report(dir, `--date=${date}`, `--profile=${profile}`);
    assert.equal(result.status, 0, result.stderr);
    clean.set(id, dir);
    return dir;
  };

  before(async () => {
    prometheus = await startBackfilledPrometheus(openMetrics(FLEET));
  });

  after(async () => {
    await prometheus?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('writes every quantity of the day as computed analytically (slapos profile)', async () => {
    const dir = await cleanRun('slapos');
    assert.deepEqual(readdirSync(dir).sort(), ['c1', 'c2', 'c3']);
    for (const c of FLEET) {
      assert.deepEqual(readdirSync(join(dir, c.instance)), [`${DAY}.xml`], 'no temporary file is left');
      assertJournal(
        journalOf(dir, c.instance),
        expectedJournal(c, WHOLE_DAY, 'slapos').movements,
        c.instance,
      );
    }
  });

  it('matches closed-form values for the notable cases', async () => {
    const c1 = journalOf(await cleanRun('slapos'), 'c1');
    const c2 = journalOf(await cleanRun('slapos'), 'c2');
    const c3 = journalOf(await cleanRun('extended'), 'c3');
    // Busy (user, system, steal) over all of both CPUs; the reboot loses 20 s of every mode alike.
    assertClose(c1.get(key('service_module/cpu_load_percent', 'c1')), (1.1875 / 2) * 100, 'c1 CPU');
    // 0.5 CPU all day but the 20 s the reset lost.
    assertClose(
      c1.get(key('service_module/cpu_load_percent', 'slappart0')),
      (0.5 * (DAY_SECONDS - 20) * 100) / DAY_SECONDS,
      'c1 slappart0 CPU',
    );
    // Active for one hour on 1.5 cores: the rest of the day does not dilute it.
    assertClose(c1.get(key('service_module/cpu_load_percent', 'slappart1')), 150, 'c1 slappart1 CPU');
    // Memory while active: 50 MiB then 70 MiB for half an hour each; the 1 MiB while idle does not count.
    assertClose(c1.get(key('service_module/memory_used', 'slappart1')), 60, 'c1 slappart1 memory');
    assert.equal(c1.has(key('service_module/disk_used', 'slappart1')), false, 'no disk series, no movement');
    for (const resource of ['cpu_load_percent', 'memory_used', 'disk_used'])
      assert.equal(
        c1.has(key(`service_module/${resource}`, 'slappart2')),
        false,
        `idle slappart2 ${resource}`,
      );
    // The two-hour gap neither inflates nor dilutes 0.25 CPU.
    assertClose(c2.get(key('service_module/cpu_load_percent', 'slappart0')), 25, 'c2 slappart0 CPU');
    // Samples 10:00:30 ... 09:59:30 cover 09:59:30 + 5 min; 12:00:30 is the next sample.
    const c2Covered = DAY_SECONDS - (12 * HOUR + 30 - (10 * HOUR - 30 + MAX_GAP));
    assertClose(
      c2.get(key('service_module/memory_used', 'slappart0')),
      (64 * (18 * HOUR + 30 - (12 * HOUR + 30 - (10 * HOUR - 30 + MAX_GAP))) + 128 * (6 * HOUR - 30)) /
        c2Covered,
      'c2 slappart0 memory',
    );
    // Active 00:00–01:00:45 and 23:00:45–24:00 in this day; the pair of samples across each midnight
    // belongs to the day of its later sample, so the day gets 23:59:45–01:00:45 and 23:00:45–23:59:45.
    assertClose(
      c3.get(key('hostmeter/cpu_time_seconds', 'slappart0')),
      0.75 * 2 * HOUR,
      'c3 slappart0 CPU time',
    );
    assertClose(c3.get(key('service_module/cpu_load_percent', 'slappart0')), 75, 'c3 slappart0 CPU');
    assertClose(
      c3.get(key('service_module/memory_used', 'slappart0')),
      (80 * (HOUR + 45) + 40 * (HOUR - 45)) / (2 * HOUR),
      'c3 slappart0 memory',
    );
    assertClose(c3.get(key('service_module/cpu_load_percent', '_unassigned')), 12.5, 'c3 unassigned CPU');
  });

  it('adds the extended totals, and consecutive days add up to the two-day window', async () => {
    const day = await cleanRun('extended');
    const next = await cleanRun('extended', NEXT_DAY);
    const both = outputDir();
    const result = await report(
      both,
      '--profile=extended',
      `--from=${DAY}T00:00:00Z`,
      `--to=${new Date((DAY_START + 2 * DAY_SECONDS) * 1000).toISOString()}`,
    );
    assert.equal(result.status, 0, result.stderr);
    const windows: [string, string, Interval][] = [
      [day, DAY, WHOLE_DAY],
      [next, NEXT_DAY, { from: DAY_SECONDS, to: 2 * DAY_SECONDS }],
      [both, DAY, { from: 0, to: 2 * DAY_SECONDS }],
    ];
    for (const c of FLEET) {
      const [first, second, total] = windows.map(([dir, label, window]) => {
        const journal = journalOf(dir, c.instance, label);
        assertJournal(journal, expectedJournal(c, window, 'extended').movements, `${c.instance} ${label}`);
        return journal;
      }) as [Journal, Journal, Journal];
      for (const resource of ['cpu_time_seconds', 'disk_read_bytes', 'disk_written_bytes']) {
        for (const p of c.partitions) {
          const k = key(`hostmeter/${resource}`, p.name);
          const sum = (first.get(k) ?? 0) + (second.get(k) ?? 0);
          if (sum === 0) assert.equal(total.has(k), false, k);
          else assertClose(total.get(k), sum, `${c.instance} ${k}: day + next day = both days`);
        }
      }
    }
  });

  it('reports the calendar day of --timezone', async () => {
    const dir = outputDir();
    const result = await report(dir, `--date=${DAY}`, '--timezone=Europe/Paris', '--profile=extended');
    assert.equal(result.status, 0, result.stderr);
    // Midnight in Paris is 23:00 UTC in January.
    const window = { from: -HOUR, to: DAY_SECONDS - HOUR };
    for (const c of FLEET)
      assertJournal(journalOf(dir, c.instance), expectedJournal(c, window, 'extended').movements, c.instance);
    // c3's first 23:00–01:00 UTC activity falls wholly in this day (at 80 MiB), its second not at all.
    const c3 = journalOf(dir, 'c3');
    assertClose(c3.get(key('hostmeter/cpu_time_seconds', 'slappart0')), 0.75 * 2 * HOUR, 'c3 CPU time');
    assertClose(c3.get(key('service_module/memory_used', 'slappart0')), 80, 'c3 memory in Paris');
  });

  it('reads the fleet in shards of --query.computers and writes the same bytes', async () => {
    const whole = await cleanRun('extended');
    const dir = outputDir();
    const result = await report(dir, `--date=${DAY}`, '--profile=extended', '--query.computers=1');
    assert.equal(result.status, 0, result.stderr);
    for (const c of FLEET) {
      const file = join(c.instance, `${DAY}.xml`);
      assert.equal(readFileSync(join(dir, file), 'utf8'), readFileSync(join(whole, file), 'utf8'), file);
    }
  });

  it('selects exactly the listed computers, whatever characters their label values hold', async () => {
    const client = new PrometheusClient({ url: prometheus.url, timeoutMs: 10_000, retries: 0, backoffMs: 0 });
    const odd = ['c1', 'c3', 'c', 'c.', 'host.example:9100', 'x|y(z)[a]{2}', 'q"\\\'', '^$*+?'];
    const matcher = exactValuesMatcher('instance', odd);
    const instances: string[] = [];
    const time = Date.parse(`${DAY}T12:00:00Z`) / 1000;
    await client.instant(
      `count by (instance) (last_over_time(system_cpu_time_seconds_total{${matcher}}[1h]))`,
      time,
      (series) => instances.push(series.labels.instance ?? ''),
    );
    assert.deepEqual(instances.sort(), ['c1', 'c3']);
    for (const value of odd)
      assert.match(value, new RegExp(`^(?:${JSON.parse(matcher.slice('instance=~'.length))})$`));
    assert.doesNotMatch(
      'host-example:9100',
      new RegExp(`^(?:${JSON.parse(matcher.slice('instance=~'.length))})$`),
    );
  });

  it('names computers by --computer.map', async () => {
    const dir = outputDir();
    const map = join(dir, 'computers.yaml');
    writeFileSync(map, 'c1: COMP-1\nc3: "COMP-3"\n');
    const reports = join(dir, 'reports');
    const result = await report(reports, `--date=${DAY}`, `--computer.map=${map}`);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readdirSync(reports).sort(), ['COMP-1', 'COMP-3', 'c2']);
    const xml = readFileSync(join(reports, 'COMP-1', `${DAY}.xml`), 'utf8');
    assert.match(xml, /<title>Eco Information for COMP-1<\/title>/);
    assertJournal(
      parseJournal(xml),
      expectedJournal(spec('c1'), WHOLE_DAY, 'slapos', 'COMP-1').movements,
      'COMP-1',
    );
    assertJournal(
      journalOf(reports, 'COMP-3'),
      expectedJournal(spec('c3'), WHOLE_DAY, 'slapos', 'COMP-3').movements,
      'COMP-3',
    );
  });

  it('leaves out a computer below --min-coverage with exit code 3, and writes the others', async () => {
    const c2Coverage = expectedJournal(spec('c2'), WHOLE_DAY, 'slapos').coverage;
    assertClose(c2Coverage, (DAY_SECONDS - 6960) / DAY_SECONDS, 'c2 coverage');
    const reference = await cleanRun('slapos');
    const below = outputDir();
    const result = await report(below, `--date=${DAY}`, `--min-coverage=${c2Coverage + 0.0005}`);
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, /coverage below --min-coverage/);
    assert.deepEqual(readdirSync(below).sort(), ['c1', 'c3']);
    for (const computer of ['c1', 'c3'])
      assert.equal(
        readFileSync(join(below, computer, `${DAY}.xml`), 'utf8'),
        readFileSync(join(reference, computer, `${DAY}.xml`), 'utf8'),
      );
    const enough = outputDir();
    const again = await report(enough, `--date=${DAY}`, `--min-coverage=${c2Coverage - 0.0005}`);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(readdirSync(enough).sort(), ['c1', 'c2', 'c3']);
  });

  it('skips a day already reported unless --force', async () => {
    const dir = outputDir();
    cpSync(await cleanRun('slapos'), dir, { recursive: true });
    const file = join(dir, 'c1', `${DAY}.xml`);
    const bytes = readFileSync(file);
    const first = statSync(file);
    const skipped = await report(dir, `--date=${DAY}`);
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.match(skipped.stderr, /already reported: skipped/);
    const unchanged = statSync(file);
    assert.equal(unchanged.ino, first.ino);
    assert.equal(unchanged.mtimeMs, first.mtimeMs);
    assert.deepEqual(readFileSync(file), bytes);
    const forced = await report(dir, `--date=${DAY}`, '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.doesNotMatch(forced.stderr, /already reported/);
    assert.notEqual(statSync(file).ino, first.ino, 'rewritten (renamed into place)');
    assert.deepEqual(readFileSync(file), bytes, 'the same data gives the same bytes');
    assert.deepEqual(readdirSync(join(dir, 'c1')), [`${DAY}.xml`]);
  });
});
