import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import { midnight, resolveReportConfig, yesterday } from '../../src/config/report-config.ts';

const BASE = ['--prometheus.url=http://127.0.0.1:9090', '--output.dir=/tmp/reports'];
const noFiles = (file: string): string => {
  throw Object.assign(new Error(`no ${file}`), { code: 'ENOENT' });
};

describe('report configuration', () => {
  it('reports yesterday in UTC by default, as a whole UTC day', async () => {
    const config = await resolveReportConfig(BASE, noFiles);
    assert.equal(config.window.label, yesterday('UTC'));
    assert.equal(config.window.to - config.window.from, 86_400);
    assert.equal(config.window.from, Date.parse(`${config.window.label}T00:00:00Z`) / 1000);
  });

  it('follows the calendar day of a time zone, 23 or 25 hours long across daylight saving changes', async () => {
    const spring = await resolveReportConfig(
      [...BASE, '--date=2026-03-29', '--timezone=Europe/Paris'],
      noFiles,
    );
    assert.equal(spring.window.from, Date.parse('2026-03-28T23:00:00Z') / 1000);
    assert.equal(spring.window.to - spring.window.from, 23 * 3600);
    const autumn = await resolveReportConfig(
      [...BASE, '--date=2026-10-25', '--timezone=Europe/Paris'],
      noFiles,
    );
    assert.equal(autumn.window.to - autumn.window.from, 25 * 3600);
    assert.equal(midnight('2026-01-14', 'America/New_York'), Date.parse('2026-01-14T05:00:00Z') / 1000);
  });

  it('takes an explicit window, and reads secrets from files', async () => {
    const config = await resolveReportConfig(
      [...BASE, '--from=2026-01-14T06:00:00Z', '--to=1768392000', '--prometheus.bearer-token-file=/token'],
      (file) => (file === '/token' ? 'secret\n' : noFiles(file)),
    );
    assert.deepEqual(config.window, { label: '2026-01-14', from: 1768370400, to: 1768392000 });
    assert.deepEqual(config.prometheus.auth, { bearer: 'secret' });
  });

  it('rejects what it cannot use, naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--output.dir=/tmp/x'], /--prometheus\.url is required/],
      [[...BASE, '--date=2026-02-30'], /--date: expected YYYY-MM-DD/],
      [
        [...BASE, '--date=2026-01-14', '--from=1', '--to=2'],
        /--from and --to go together, and not with --date/,
      ],
      [[...BASE, '--from=10', '--to=5'], /--to must be after --from/],
      [[...BASE, '--timezone=Mars/Olympus'], /--timezone: unknown time zone/],
      [[...BASE, '--min-coverage=1.5'], /--min-coverage: expected a fraction between 0 and 1/],
      [[...BASE, '--query.computers=0'], /--query\.computers: expected a whole number of at least 1, got 0/],
      [
        [...BASE, '--prometheus.password-file=/none', '--prometheus.username=u'],
        /--prometheus\.password-file: cannot read \/none: ENOENT/,
      ],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(resolveReportConfig(args, noFiles), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, message);
        return true;
      });
    }
  });
});
