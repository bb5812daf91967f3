// Names and values of the hwmon and power_supply sysfs classes
// (Documentation/hwmon/sysfs-interface.rst, Documentation/ABI/testing/sysfs-class-power).

import { ParseError, parseDecimal } from './parse-error.ts';

export interface SensorFile {
  readonly kind: 'temp' | 'fan';
  /** `temp1`, `fan2`: the prefix shared by the sensor's `_input` and `_label` files. */
  readonly sensor: string;
}

/** Recognises a `tempN_input` or `fanN_input` file name; other attribute files give undefined. */
export function parseSensorFileName(fileName: string): SensorFile | undefined {
  const match = /^((temp|fan)\d+)_input$/.exec(fileName);
  if (!match) return undefined;
  return { kind: match[2] as SensorFile['kind'], sensor: match[1] as string };
}

/** A sysfs attribute holding one decimal integer, such as `45000\n` (millidegrees) or `1200\n` (rpm). */
export function parseSysfsInteger(text: string, source: string): number {
  const value = parseDecimal(text.trim(), source, 'value');
  if (!Number.isInteger(value))
    throw new ParseError(source, `expected an integer, got ${JSON.stringify(text)}`);
  return value;
}

/**
 * A stable identifier for a hwmon chip. The hwmonN numbers follow driver probe order and can change
 * between boots, so the id is built from the chip name and the basename of the parent device
 * (`coretemp.0`, `k10temp.0000:00:18.3`, `nvme0`), falling back to hwmonN for chips without either.
 */
export function hwmonChipId(chipName: string, deviceName: string | undefined, hwmonDir: string): string {
  if (deviceName === undefined) return chipName === '' ? hwmonDir : `${chipName}.${hwmonDir}`;
  if (chipName === '' || deviceName.startsWith(chipName)) return deviceName;
  return `${chipName}.${deviceName}`;
}
