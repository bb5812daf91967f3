import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config/load.ts';
import { resolveServeConfig } from '../../src/config/serve-config.ts';

const COLLECTORS = [
  { name: 'cpu', description: 'CPU time', defaultEnabled: true },
  { name: 'hwmon', description: 'sensors', defaultEnabled: true },
  { name: 'filesystem', description: 'filesystems', defaultEnabled: true },
];

function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hm-config-')), 'hostmeter.yml');
  writeFileSync(file, text);
  return file;
}

const rejects = (args: string[], message: RegExp): Promise<void> =>
  assert.rejects(resolveServeConfig(args, COLLECTORS), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });

describe('resolveServeConfig', () => {
  it('has node_exporter-like defaults', async () => {
    const config = await resolveServeConfig([], COLLECTORS);
    assert.deepEqual(config.listenAddress, { host: undefined, port: 9464 });
    assert.equal(config.telemetryPath, '/metrics');
    assert.equal(config.scrapeTimeoutMs, 10_000);
    assert.deepEqual(config.paths, { procfs: '/proc', sysfs: '/sys', rootfs: '/' });
    assert.deepEqual(config.enabledCollectors, ['cpu', 'hwmon', 'filesystem']);
    assert.ok(config.collectorSettings.disk.deviceExclude.test('vda1'));
    assert.ok(!config.collectorSettings.disk.deviceExclude.test('vda'));
  });

  it('takes flags, including --no-collector.NAME', async () => {
    const config = await resolveServeConfig(
      [
        '--web.listen-address=127.0.0.1:19999',
        '--no-collector.hwmon',
        '--web.scrape-timeout=2.5s',
        '--path.procfs',
        '/host/proc',
      ],
      COLLECTORS,
    );
    assert.deepEqual(config.listenAddress, { host: '127.0.0.1', port: 19999 });
    assert.deepEqual(config.enabledCollectors, ['cpu', 'filesystem']);
    assert.equal(config.scrapeTimeoutMs, 2500);
    assert.equal(config.paths.procfs, '/host/proc');
  });

  it('reads a YAML file, nested or dotted, with flags taking precedence', async () => {
    const file = configFile(
      [
        'web:',
        '  listen-address: "[::1]:9100"',
        '  scrape-timeout: 3s',
        'collector:',
        '  hwmon: false',
        '  filesystem:',
        '    enabled: false',
        '    mount-points-exclude: ^/boot',
        'path.rootfs: /host',
      ].join('\n'),
    );
    const config = await resolveServeConfig([`--config.file=${file}`, '--web.scrape-timeout=4s'], COLLECTORS);
    assert.deepEqual(config.listenAddress, { host: '::1', port: 9100 });
    assert.equal(config.scrapeTimeoutMs, 4000);
    assert.deepEqual(config.enabledCollectors, ['cpu']);
    assert.ok(config.collectorSettings.filesystem.mountPointsExclude.test('/boot/efi'));
    assert.equal(config.paths.rootfs, '/host');
  });

  it('names the file, line and key of an unknown setting', async () => {
    const file = configFile('web:\n  listen-address: ":9100"\n  listen-adress: ":9200"\n');
    await rejects([`--config.file=${file}`], new RegExp(`^${file}:3: web\\.listen-adress: unknown setting$`));
  });

  it('names the file, line and key of a bad value', async () => {
    const file = configFile('collector:\n  disk:\n    device-exclude: "(unclosed"\n');
    await rejects(
      [`--config.file=${file}`],
      new RegExp(`^${file}:3: collector\\.disk\\.device-exclude: invalid regular expression`),
    );
    const timeout = configFile('web:\n  scrape-timeout: soon\n');
    await rejects(
      [`--config.file=${timeout}`],
      new RegExp(`^${timeout}:2: web\\.scrape-timeout: expected a positive duration`),
    );
    const flag = configFile('collector:\n  cpu: "no"\n');
    await rejects(
      [`--config.file=${flag}`],
      new RegExp(`^${flag}:2: collector\\.cpu: expected true or false, got "no"$`),
    );
  });

  it('names the file and line of a YAML syntax error', async () => {
    const file = configFile('web:\n  listen-address: ":9100"\n bad indentation: [\n');
    await rejects([`--config.file=${file}`], new RegExp(`^${file}:\\d+: invalid YAML`));
  });

  it('rejects a missing file, unknown flags and bad flag values', async () => {
    await rejects(
      ['--config.file=/nonexistent/hostmeter.yml'],
      /^\/nonexistent\/hostmeter\.yml: cannot read config file: ENOENT$/,
    );
    await rejects(['--web.listen-adress=:1'], /^unknown flag --web\.listen-adress$/);
    await rejects(['--web.listen-address=localhost'], /^--web\.listen-address: expected \[host\]:port/);
    await rejects(['--web.listen-address=:70000'], /^--web\.listen-address: expected \[host\]:port/);
    await rejects(['serve-me'], /^unexpected argument/);
  });

  it('reads partition rules and names the file, line and key of a bad one', async () => {
    const good = configFile(
      'partitions:\n  rules:\n    - name: slappart$1\n      user-regex: ^slapuser(\\d+)$\n',
    );
    const config = await resolveServeConfig([`--config.file=${good}`], COLLECTORS);
    assert.equal(config.collectorSettings.partitions.rules[0]?.name, 'slappart$1');
    assert.equal(config.collectorSettings.partitions.inherit, true);
    const bad = configFile(
      [
        'partitions:',
        '  rules:',
        '    - name: a',
        '      user: alice',
        '    - name: b',
        '      user-regex: "(unclosed"',
      ].join('\n'),
    );
    await rejects(
      [`--config.file=${bad}`],
      new RegExp(`^${bad}:6: partitions\\.rules\\[1\\]\\.user-regex: invalid regular expression`),
    );
  });
});
