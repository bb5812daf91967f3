import type { CollectorDefinition, CollectorSettings } from '../collectors/collector.ts';
import type { HostPaths } from '../io/host-files.ts';
import type { LogFormat, LogLevel } from '../log.ts';
import { resolveSettings, settingValue } from './load.ts';
import { collectorSwitch, type ListenAddress, SERVE_SETTINGS, type Setting } from './settings.ts';

export interface ServeConfig {
  readonly listenAddress: ListenAddress;
  readonly telemetryPath: string;
  readonly scrapeTimeoutMs: number;
  readonly maxRequests: number;
  readonly paths: HostPaths;
  readonly enabledCollectors: readonly string[];
  readonly collectorSettings: CollectorSettings;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
}

type CollectorInfo = Pick<CollectorDefinition, 'name' | 'description' | 'defaultEnabled'>;

/** Every setting `hostmeter serve` takes: the fixed ones, then one switch per collector. */
export function serveSettings(collectors: readonly CollectorInfo[]): Setting[] {
  return [
    ...Object.values(SERVE_SETTINGS),
    ...collectors.map((collector) =>
      collectorSwitch(collector.name, collector.description, collector.defaultEnabled),
    ),
  ] as Setting[];
}

export async function resolveServeConfig(
  args: readonly string[],
  collectors: readonly CollectorInfo[],
): Promise<ServeConfig> {
  const resolved = await resolveSettings(args, serveSettings(collectors));
  const get = <T>(setting: Setting<T>): T => settingValue(resolved, setting);
  const s = SERVE_SETTINGS;
  return {
    listenAddress: get(s.listenAddress),
    telemetryPath: get(s.telemetryPath),
    scrapeTimeoutMs: get(s.scrapeTimeout),
    maxRequests: get(s.maxRequests),
    paths: { procfs: get(s.procfs), sysfs: get(s.sysfs), rootfs: get(s.rootfs) },
    enabledCollectors: collectors
      .filter((collector) => resolved.get(`collector.${collector.name}`) === true)
      .map((collector) => collector.name),
    collectorSettings: {
      filesystem: {
        mountPointsExclude: get(s.mountPointsExclude),
        fsTypesExclude: get(s.fsTypesExclude),
        mountTimeoutMs: get(s.mountTimeout),
      },
      disk: { deviceExclude: get(s.diskDeviceExclude) },
      network: { deviceExclude: get(s.networkDeviceExclude) },
      partitions: {
        rules: get(s.partitionRules),
        inherit: get(s.partitionsInherit),
        top: get(s.processesTop),
        stateFile: get(s.stateFile),
        stateSaveIntervalMs: get(s.stateSaveInterval),
        diskUsageIntervalMs: get(s.diskUsageInterval),
        diskUsageConcurrency: Math.max(1, get(s.diskUsageConcurrency)),
      },
    },
    logLevel: get(s.logLevel),
    logFormat: get(s.logFormat),
  };
}
