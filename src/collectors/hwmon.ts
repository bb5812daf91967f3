import { readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type HostPaths, listOptionalDir, readOptionalText, SourceError, sysPath } from '../io/host-files.ts';
import type { Logger } from '../log.ts';
import { hwmonChipId, parseSensorFileName, parseSysfsInteger, type SensorFile } from '../parse/hwmon.ts';
import { type CollectorDefinition, Observations, type ObservedMetricSpec } from './collector.ts';

export const HWMON_METRICS = {
  temperature: {
    name: 'hw.temperature',
    kind: 'gauge',
    unit: 'Cel',
    description: 'Temperature reported by a hardware monitoring sensor.',
    labels: ['hw.id', 'hw.name', 'sensor'],
    availability: 'where /sys/class/hwmon has temperature sensors',
  },
  fanSpeed: {
    name: 'hw.fan.speed',
    kind: 'gauge',
    unit: 'rpm',
    description: 'Fan speed reported by a hardware monitoring sensor.',
    labels: ['hw.id', 'hw.name', 'sensor'],
    availability: 'where /sys/class/hwmon has fan sensors',
  },
  batteryCharge: {
    name: 'hw.battery.charge',
    kind: 'gauge',
    unit: '1',
    description: 'Remaining battery charge as a fraction of full capacity.',
    labels: ['hw.id'],
    availability: 'where /sys/class/power_supply has a battery',
  },
  powerSupplyOnline: {
    name: 'hw.power_supply.online',
    kind: 'gauge',
    unit: '',
    description: 'Whether an external power supply (mains or USB) is connected: 1 online, 0 offline.',
    labels: ['hw.id'],
    availability: 'where /sys/class/power_supply has a mains or USB supply',
  },
} as const satisfies Record<string, ObservedMetricSpec>;

/** Sensor files are in thousandths of a degree Celsius; fan files are already in rpm. */
const SENSOR_METRICS: Readonly<Record<SensorFile['kind'], { metric: ObservedMetricSpec; scale: number }>> = {
  temp: { metric: HWMON_METRICS.temperature, scale: 1 / 1000 },
  fan: { metric: HWMON_METRICS.fanSpeed, scale: 1 },
};

/**
 * Reads one sensor attribute. Drivers answer EIO, ENODATA or EAGAIN for a sensor that is asleep,
 * disconnected or mid-conversion, and a sensor can vanish between listing and reading; one such
 * sensor must not hide the others, so read failures skip it (undefined) instead of failing the scrape.
 */
function readSensorText(path: string, log: Logger): string | undefined {
  try {
    return readOptionalText(path);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    log.debug('skipping unreadable sensor file', { path, code: error.code });
    return undefined;
  }
}

function readSensorValue(path: string, log: Logger): number | undefined {
  const text = readSensorText(path, log);
  return text === undefined ? undefined : parseSysfsInteger(text, path);
}

/** Basename of the chip's parent device, or undefined for virtual chips that have none. */
function deviceName(chipDir: string): string | undefined {
  try {
    return basename(readlinkSync(join(chipDir, 'device')));
  } catch (error) {
    const wrapped = new SourceError(join(chipDir, 'device'), error);
    if (wrapped.absent || wrapped.code === 'EINVAL') return undefined;
    throw wrapped;
  }
}

function collectHwmon(paths: HostPaths, log: Logger, out: Observations): void {
  const classDir = sysPath(paths, 'class/hwmon');
  for (const hwmonDir of listOptionalDir(classDir)) {
    const chipDir = join(classDir, hwmonDir);
    const chipName = readSensorText(join(chipDir, 'name'), log)?.trim() ?? '';
    const id = hwmonChipId(chipName, deviceName(chipDir), hwmonDir);
    for (const fileName of listOptionalDir(chipDir)) {
      const sensorFile = parseSensorFileName(fileName);
      if (sensorFile === undefined) continue;
      const value = readSensorValue(join(chipDir, fileName), log);
      if (value === undefined) continue;
      const label = readSensorText(join(chipDir, `${sensorFile.sensor}_label`), log)?.trim() ?? '';
      const { metric, scale } = SENSOR_METRICS[sensorFile.kind];
      out.add(metric, value * scale, { 'hw.id': id, 'hw.name': label, sensor: sensorFile.sensor });
    }
  }
}

function collectPowerSupplies(paths: HostPaths, log: Logger, out: Observations): void {
  const classDir = sysPath(paths, 'class/power_supply');
  for (const supply of listOptionalDir(classDir)) {
    const supplyDir = join(classDir, supply);
    const type = readSensorText(join(supplyDir, 'type'), log)?.trim();
    const attributes = { 'hw.id': supply };
    if (type === 'Battery') {
      const percent = readSensorValue(join(supplyDir, 'capacity'), log);
      if (percent !== undefined) out.add(HWMON_METRICS.batteryCharge, percent / 100, attributes);
    } else if (type === 'Mains' || type === 'USB') {
      const online = readSensorValue(join(supplyDir, 'online'), log);
      if (online !== undefined) out.add(HWMON_METRICS.powerSupplyOnline, online, attributes);
    }
  }
}

export const hwmonCollector: CollectorDefinition = {
  name: 'hwmon',
  description: 'Temperatures, fan speeds and batteries from /sys/class/hwmon and /sys/class/power_supply',
  defaultEnabled: true,
  metrics: Object.values(HWMON_METRICS),
  create: ({ paths, log }) => ({
    collect() {
      const out = new Observations();
      collectHwmon(paths, log, out);
      collectPowerSupplies(paths, log, out);
      return out;
    },
  }),
};
