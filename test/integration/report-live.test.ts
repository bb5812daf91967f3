// The report against a live pipeline: a real `hostmeter serve` scraped every second by a real Prometheus
// while a real user burns CPU and writes; then `hostmeter report --from --to` over that window must agree
// with the partition counters Prometheus holds at both ends of the window.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hostmeterAsync, type RunningHostmeter, startHostmeter, waitFor } from '../helpers/hostmeter.ts';
import { type RunningPrometheus, startPrometheus } from '../helpers/prometheus.ts';
import { queryAt } from '../helpers/prometheus-at.ts';
import { ensureUser } from '../helpers/users.ts';
import { validateXml } from '../helpers/xmllint.ts';

const USER = 'hmtest-report';

/** The quantity of the movement with this resource and reference in a journal. */
function quantity(xml: string, resource: string, reference: string): number | undefined {
  for (const movement of xml.match(/<movement>.*?<\/movement>/g) ?? []) {
    if (
      movement.includes(`<resource>${resource}</resource>`) &&
      movement.includes(`<reference>${reference}</reference>`)
    ) {
      return Number(/<quantity>([^<]+)<\/quantity>/.exec(movement)?.[1]);
    }
  }
  return undefined;
}

describe('hostmeter report over a live hostmeter serve', () => {
  let hostmeter: RunningHostmeter;
  let prometheus: RunningPrometheus;
  const output = mkdtempSync(join(tmpdir(), 'hm-report-live-'));

  before(async () => {
    ensureUser(USER);
    hostmeter = await startHostmeter(['--no-collector.tcpstat', '--no-collector.hwmon']);
    prometheus = await startPrometheus({ targets: [new URL(hostmeter.url).host] });
    await waitFor(
      async () => (await prometheus.query('hostmeter_partition_processes')).length > 0,
      'first scrape',
      30_000,
    );
  });

  after(async () => {
    await prometheus?.stop();
    await hostmeter?.stop();
    rmSync(output, { recursive: true, force: true });
  });

  it('reports the CPU seconds and bytes the partition counters moved by, and a valid journal', async () => {
    const from = Math.floor(Date.now() / 1000);
    await sleep(2000);
    const user = ensureUser(USER);
    const work = spawn(
      '/usr/bin/python3',
      [
        '-B',
        '-c',
        'import os,time\nt=time.time()\nwhile time.time()-t<3: pass\nf=os.open("/var/tmp/hm-report-live-%d"%os.getpid(),os.O_WRONLY|os.O_CREAT)\nos.write(f,b"x"*(4<<20))\nos.fsync(f)\nos.unlink("/var/tmp/hm-report-live-%d"%os.getpid())',
      ],
      { uid: user.uid, gid: user.gid, stdio: 'ignore' },
    );
    await new Promise((resolve) => work.once('exit', resolve));
    await sleep(3000);
    const to = Math.floor(Date.now() / 1000);
    await sleep(1500);

    const result = await hostmeterAsync([
      'report',
      `--prometheus.url=${prometheus.url}`,
      `--output.dir=${output}`,
      `--from=${from}`,
      `--to=${to}`,
      '--profile=extended',
      '--max-gap=10s',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const [computer] = readdirSync(output);
    assert.ok(computer, 'a computer directory was written');
    const [file] = readdirSync(join(output, computer));
    const xml = readFileSync(join(output, computer, file ?? ''), 'utf8');
    const validation = validateXml(xml);
    assert.ok(validation.ok, validation.messages);

    // The counters' values at both ends, as Prometheus holds them (last sample at or before each end).
    const counter = async (expr: string, at: number): Promise<number> =>
      (await queryAt(prometheus.url, `sum(last_over_time(${expr}[1m]))`, at))[0]?.value ?? 0;
    const cpu = `hostmeter_partition_cpu_time_seconds_total{partition="${USER}"}`;
    const written = `hostmeter_partition_disk_io_bytes_total{partition="${USER}",disk_io_direction="write"}`;
    const cpuMoved = (await counter(cpu, to)) - (await counter(cpu, from));
    const writtenMoved = (await counter(written, to)) - (await counter(written, from));
    assert.ok(cpuMoved > 2.5, `the burner's CPU reached the counters: ${cpuMoved} s`);
    const reportedCpu = quantity(xml, 'hostmeter/cpu_time_seconds', USER);
    const reportedWritten = quantity(xml, 'hostmeter/disk_written_bytes', USER);
    assert.ok(
      reportedCpu !== undefined && Math.abs(reportedCpu - cpuMoved) <= 1e-9 * cpuMoved,
      `${reportedCpu} vs ${cpuMoved}`,
    );
    assert.equal(reportedWritten, writtenMoved);
    assert.ok(writtenMoved >= 4 << 20, `written ${writtenMoved} bytes`);
    assert.ok((quantity(xml, 'service_module/cpu_load_percent', USER) ?? 0) > 0);
  });
});
