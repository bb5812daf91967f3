import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { prometheusName, unitWord } from '../src/prometheus-names.ts';

describe('prometheusName', () => {
  // Expected names are the OpenTelemetry Collector Prometheus exporter's for the same instruments.
  const cases: [string, string, boolean, string, string][] = [
    ['system.cpu.time', 's', false, 'system_cpu_time_seconds', 'seconds'],
    ['system.memory.usage', 'By', true, 'system_memory_usage_bytes', 'bytes'],
    ['system.network.io', 'By', false, 'system_network_io_bytes', 'bytes'],
    ['system.network.packet.count', '{packet}', false, 'system_network_packet_count', ''],
    ['system.cpu.frequency', 'Hz', true, 'system_cpu_frequency_hertz', 'hertz'],
    ['hw.temperature', 'Cel', true, 'hw_temperature_celsius', 'celsius'],
    ['hw.battery.charge', '1', true, 'hw_battery_charge_ratio', 'ratio'],
    ['system.cpu.utilization', '1', false, 'system_cpu_utilization', ''],
    [
      'hostmeter.network.interface.speed',
      'By/s',
      true,
      'hostmeter_network_interface_speed_bytes_per_second',
      'bytes_per_second',
    ],
    ['v8js.gc.duration', 's', false, 'v8js_gc_duration_seconds', 'seconds'],
    ['hw.fan.speed', 'rpm', true, 'hw_fan_speed_rpm', 'rpm'],
    [
      'hostmeter.scrape.collector.duration_seconds',
      's',
      true,
      'hostmeter_scrape_collector_duration_seconds',
      'seconds',
    ],
    ['http.requests.total', '', false, 'http_requests', ''],
  ];
  for (const [name, unit, isGauge, expected, word] of cases) {
    it(`${name} (${unit || 'no unit'}) → ${expected}`, () => {
      assert.deepEqual(prometheusName(name, unit, isGauge), { name: expected, unit: word });
    });
  }

  it('keeps annotations out of the unit word', () => {
    assert.equal(unitWord('{operation}/s', true), 'per_second');
    assert.equal(unitWord('By/{packet}', true), 'bytes');
  });
});
