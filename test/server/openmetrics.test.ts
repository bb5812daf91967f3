import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toOpenMetrics } from '../../src/server/openmetrics.ts';

describe('toOpenMetrics', () => {
  it('names counter families without _total, keeps matching units and ends with # EOF', () => {
    const text = [
      '# HELP system_cpu_time_seconds_total CPU time  spent.',
      '# UNIT system_cpu_time_seconds_total seconds',
      '# TYPE system_cpu_time_seconds_total counter',
      'system_cpu_time_seconds_total{cpu_mode="user"} 12.5',
      '# HELP system_network_io_bytes_total Bytes.',
      '# TYPE system_network_io_bytes_total counter',
      'system_network_io_bytes_total 3',
      '# HELP odd_gauge A gauge whose unit is not its suffix.',
      '# UNIT odd_gauge bytes',
      '# TYPE odd_gauge gauge',
      'odd_gauge 1',
      '',
    ].join('\n');
    assert.equal(
      toOpenMetrics(text),
      [
        '# HELP system_cpu_time_seconds CPU time  spent.',
        '# UNIT system_cpu_time_seconds seconds',
        '# TYPE system_cpu_time_seconds counter',
        'system_cpu_time_seconds_total{cpu_mode="user"} 12.5',
        '# HELP system_network_io_bytes Bytes.',
        '# TYPE system_network_io_bytes counter',
        'system_network_io_bytes_total 3',
        '# HELP odd_gauge A gauge whose unit is not its suffix.',
        '# TYPE odd_gauge gauge',
        'odd_gauge 1',
        '# EOF',
        '',
      ].join('\n'),
    );
  });

  it('turns an empty exposition into a lone # EOF', () => {
    assert.equal(toOpenMetrics('# no registered metrics'), '# EOF\n');
  });
});
