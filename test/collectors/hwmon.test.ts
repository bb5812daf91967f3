import assert from 'node:assert/strict';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ObservedMetricSpec } from '../../src/collectors/collector.ts';
import { HWMON_METRICS, hwmonCollector } from '../../src/collectors/hwmon.ts';
import { ParseError } from '../../src/parse/parse-error.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';

const HWMON = 'sys/class/hwmon';
const SUPPLY = 'sys/class/power_supply';

const SYSFS = {
  [`${HWMON}/hwmon0/name`]: 'coretemp\n',
  [`${HWMON}/hwmon0/temp1_input`]: '45000\n',
  [`${HWMON}/hwmon0/temp1_label`]: 'Package id 0\n',
  [`${HWMON}/hwmon0/temp1_crit`]: '100000\n',
  [`${HWMON}/hwmon0/temp2_input`]: '43500\n',
  // A directory where a sensor file should be: reading it fails as a broken sensor would (EIO).
  [`${HWMON}/hwmon0/temp3_input/`]: '',
  [`${HWMON}/hwmon1/name`]: 'nct6798\n',
  [`${HWMON}/hwmon1/fan1_input`]: '1200\n',
  [`${HWMON}/hwmon1/fan1_label`]: 'CPU fan\n',
  [`${HWMON}/hwmon1/fan2_input`]: '0\n',
  [`${HWMON}/hwmon1/temp1_input`]: '-5000\n',
  [`${HWMON}/hwmon1/in0_input`]: '1032\n',
  [`${HWMON}/hwmon2/name`]: 'acpitz\n',
  [`${HWMON}/hwmon2/temp1_input`]: '27800\n',
  [`${SUPPLY}/BAT0/type`]: 'Battery\n',
  [`${SUPPLY}/BAT0/capacity`]: '87\n',
  [`${SUPPLY}/AC/type`]: 'Mains\n',
  [`${SUPPLY}/AC/online`]: '1\n',
  [`${SUPPLY}/ucsi-source-psy-USBC000:001/type`]: 'USB\n',
  [`${SUPPLY}/ucsi-source-psy-USBC000:001/online`]: '0\n',
  [`${SUPPLY}/hid-mouse-battery/type`]: 'Battery\n',
  [`${SUPPLY}/ups/type`]: 'UPS\n',
};

function fakeSysfs(files: Readonly<Record<string, string>> = SYSFS) {
  const paths = fakeHost(files);
  symlinkSync('../../../devices/platform/coretemp.0', join(paths.sysfs, 'class/hwmon/hwmon0/device'));
  symlinkSync('../../../devices/platform/nct6775.656', join(paths.sysfs, 'class/hwmon/hwmon1/device'));
  return paths;
}

describe('hwmon collector', () => {
  it('reads temperatures, fans, batteries and mains from a fake sysfs', async () => {
    const out = await collectOnce(hwmonCollector, testContext(fakeSysfs()));
    const temp = (id: string, name: string, sensor: string) =>
      observed(out, 'hw.temperature', { 'hw.id': id, 'hw.name': name, sensor });
    assert.equal(temp('coretemp.0', 'Package id 0', 'temp1'), 45);
    assert.equal(temp('coretemp.0', '', 'temp2'), 43.5);
    assert.equal(temp('nct6798.nct6775.656', '', 'temp1'), -5);
    assert.equal(temp('acpitz.hwmon2', '', 'temp1'), 27.8);
    const fan = (name: string, sensor: string) =>
      observed(out, 'hw.fan.speed', { 'hw.id': 'nct6798.nct6775.656', 'hw.name': name, sensor });
    assert.equal(fan('CPU fan', 'fan1'), 1200);
    assert.equal(fan('', 'fan2'), 0);
    assert.equal(observed(out, 'hw.battery.charge', { 'hw.id': 'BAT0' }), 0.87);
    assert.equal(observed(out, 'hw.power_supply.online', { 'hw.id': 'AC' }), 1);
    assert.equal(observed(out, 'hw.power_supply.online', { 'hw.id': 'ucsi-source-psy-USBC000:001' }), 0);
    // The unreadable temp3, the battery without a capacity and the UPS give no series.
    assert.equal(out.items.length, 9);
  });

  it('every observation carries exactly the labels its spec declares', async () => {
    const out = await collectOnce(hwmonCollector, testContext(fakeSysfs()));
    for (const { metric, attributes } of out.items) {
      assert.ok((Object.values(HWMON_METRICS) as ObservedMetricSpec[]).includes(metric));
      assert.deepEqual(Object.keys(attributes), metric.labels);
    }
  });

  it('reports nothing when the classes are absent', async () => {
    const out = await collectOnce(hwmonCollector, testContext(fakeHost({})));
    assert.equal(out.items.length, 0);
  });

  it('fails the scrape on a garbled sensor value', async () => {
    const paths = fakeSysfs({ ...SYSFS, [`${HWMON}/hwmon2/temp1_input`]: 'N/A\n' });
    await assert.rejects(async () => collectOnce(hwmonCollector, testContext(paths)), ParseError);
  });

  it(
    'runs on this machine',
    { skip: existsSync('/sys/class/hwmon') && 'this machine has hwmon chips' },
    async () => {
      const out = await collectOnce(hwmonCollector, testContext());
      assert.equal(out.items.filter((o) => o.metric.name.startsWith('hw.temperature')).length, 0);
      assert.equal(out.items.filter((o) => o.metric.name.startsWith('hw.fan')).length, 0);
    },
  );
});
