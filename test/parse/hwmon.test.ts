import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hwmonChipId, parseSensorFileName, parseSysfsInteger } from '../../src/parse/hwmon.ts';
import { ParseError } from '../../src/parse/parse-error.ts';

describe('parseSensorFileName', () => {
  it('recognises temperature and fan inputs', () => {
    assert.deepEqual(parseSensorFileName('temp1_input'), { kind: 'temp', sensor: 'temp1' });
    assert.deepEqual(parseSensorFileName('fan12_input'), { kind: 'fan', sensor: 'fan12' });
  });

  it('ignores other attributes', () => {
    for (const name of ['temp1_label', 'temp1_crit', 'in0_input', 'name', 'fan_input', 'pwm1']) {
      assert.equal(parseSensorFileName(name), undefined, name);
    }
  });
});

describe('parseSysfsInteger', () => {
  it('reads positive and negative values', () => {
    assert.equal(parseSysfsInteger('45000\n', 'temp1_input'), 45000);
    assert.equal(parseSysfsInteger('-5500\n', 'temp1_input'), -5500);
  });

  for (const [name, text] of [
    ['empty', ''],
    ['garbled', 'N/A\n'],
    ['fractional', '45.5\n'],
  ] as const) {
    it(`rejects ${name} input with a ParseError`, () => {
      assert.throws(() => parseSysfsInteger(text, 'temp1_input'), ParseError);
    });
  }
});

describe('hwmonChipId', () => {
  it('uses the device name alone when it already names the chip', () => {
    assert.equal(hwmonChipId('coretemp', 'coretemp.0', 'hwmon3'), 'coretemp.0');
    assert.equal(hwmonChipId('nvme', 'nvme0', 'hwmon1'), 'nvme0');
  });

  it('prefixes the chip name to a bus address', () => {
    assert.equal(hwmonChipId('k10temp', '0000:00:18.3', 'hwmon2'), 'k10temp.0000:00:18.3');
  });

  it('falls back to the hwmon directory for chips without a device', () => {
    assert.equal(hwmonChipId('acpitz', undefined, 'hwmon0'), 'acpitz.hwmon0');
    assert.equal(hwmonChipId('', undefined, 'hwmon0'), 'hwmon0');
    assert.equal(hwmonChipId('', '0000:00:18.3', 'hwmon0'), '0000:00:18.3');
  });
});
