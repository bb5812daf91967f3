// The `hostmeter` command. Exit codes: 0 success, 1 runtime failure (e.g. the listen address is taken),
// 2 usage or configuration error (nothing was started).

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { SetupError } from './collectors/collector.ts';
import { COLLECTORS } from './collectors/index.ts';
import { ConfigError } from './config/load.ts';
import { REPORT_SETTINGS, resolveReportConfig } from './config/report-config.ts';
import { resolveServeConfig, serveSettings } from './config/serve-config.ts';
import type { Setting } from './config/settings.ts';
import { createLogger } from './log.ts';
import { PrometheusClient } from './report/prometheus-client.ts';
import { REPORT_EXIT, runReport } from './report/run.ts';
import { uploadQueue } from './report/upload.ts';
import { startExporter } from './server/serve.ts';

// Read at run time so the same line works from src/ (type stripping) and from the compiled dist/.
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

const USAGE = `usage: hostmeter <command> [flags]

Commands:
  serve          Serve host and partition metrics on /metrics for Prometheus
  collectors     List the collectors, what they measure and whether they are on by default
  check-config   Validate flags and --config.file, print nothing and exit 0 when they are valid
  report         Write each computer's consumption report (SlapOS journal XML) for a day, from Prometheus
  report upload  Send the reports still queued in --output.dir to --upload.url

Run 'hostmeter <command> --help' for the flags of a command.
  --help         Show this help
  --version      Show the version

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error; report also uses
3 (a computer below --min-coverage was not written), 4 (Prometheus failed: nothing written),
5 (an upload failed: the report stays queued).
`;

function flagHelp(settings: readonly Setting[]): string {
  const rows = [
    ['--config.file=FILE', 'YAML file with any of the settings below (flags override it).'],
    ...settings.map((setting) => {
      if (setting.type === 'boolean') {
        return [
          `--[no-]${setting.key}`,
          `${setting.help} (default ${setting.defaultText === 'true' ? 'on' : 'off'})`,
        ];
      }
      if (setting.type === 'file') return [`${setting.key}: (config file)`, setting.help];
      const fallback = setting.defaultText === '' ? 'none' : JSON.stringify(setting.defaultText);
      return [`--${setting.key}=VALUE`, `${setting.help} (default ${fallback})`];
    }),
  ];
  const width = Math.max(...rows.map(([flag = '']) => flag.length)) + 2;
  return rows.map(([flag = '', help]) => `  ${flag.padEnd(width)}${help}`).join('\n');
}

function collectorsTable(): string {
  const width = Math.max(...COLLECTORS.map((collector) => collector.name.length)) + 2;
  return COLLECTORS.map(
    (collector) =>
      `${collector.name.padEnd(width)}${collector.defaultEnabled ? 'enabled ' : 'disabled'}  ${collector.description}`,
  ).join('\n');
}

async function serve(args: readonly string[]): Promise<number> {
  // V8 otherwise lets the heap of an idle daemon grow to 160 MB of RSS over 600 scrapes before collecting;
  // with --optimize-for-size it stays near 95 MB (docs/benchmarks.md). V8 reads this GC heuristic at run
  // time. Not for `report`, which holds millions of samples: there the heuristic's frequent full
  // collections took half of the run's CPU.
  setFlagsFromString('--optimize-for-size');
  const config = await resolveServeConfig(args, COLLECTORS);
  const log = createLogger(config.logLevel, config.logFormat);
  let exporter: Awaited<ReturnType<typeof startExporter>>;
  try {
    exporter = await startExporter(config, COLLECTORS, VERSION, log);
  } catch (error) {
    if (error instanceof SetupError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${config.listenAddress.host ?? ''}:${config.listenAddress.port}`;
    log.error(code === 'EADDRINUSE' ? `cannot listen on ${where}: address already in use` : 'cannot start', {
      err: error instanceof Error ? error.message : String(error),
    });
    return EXIT.failure;
  }
  log.info('listening', {
    address: `${config.listenAddress.host ?? ''}:${config.listenAddress.port}`,
    version: VERSION,
    collectors: config.enabledCollectors.join(','),
  });
  return new Promise((resolve) => {
    const stop = (signal: string): void => {
      log.info('shutting down', { signal });
      exporter.stop().then(
        () => resolve(EXIT.ok),
        () => resolve(EXIT.failure),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function report(args: readonly string[]): Promise<number> {
  const upload = args[0] === 'upload';
  const config = await resolveReportConfig(upload ? args.slice(1) : args, (file) =>
    readFileSync(file, 'utf8'),
  );
  const terminal = process.stderr.isTTY === true;
  // On a terminal: a progress bar and a summary; otherwise one JSON line per computer, for cron and Kubernetes.
  const log = createLogger(terminal ? 'warn' : 'info', 'json');
  if (upload) {
    if (!config.upload) throw new ConfigError('report upload needs --upload.url');
    const { sent, failed } = await uploadQueue(config.outputDir, {
      ...config.upload,
      timeoutMs: config.prometheus.timeoutMs,
      backoffMs: 1000,
      log,
    });
    process.stderr.write(`hostmeter report upload: ${sent} sent, ${failed} still queued\n`);
    return failed > 0 ? REPORT_EXIT.upload : REPORT_EXIT.ok;
  }
  const client = new PrometheusClient({ ...config.prometheus, backoffMs: 1000, log });
  const progress = terminal
    ? (done: number, total: number): void => {
        const width = 30;
        const filled = Math.min(width, Math.round((done / total) * width));
        process.stderr.write(
          `\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total} computers`,
        );
        if (done === total) process.stderr.write('\n');
      }
    : undefined;
  const { summary, exitCode } = await runReport(config, { client, log, ...(progress && { progress }) });
  if (terminal) {
    process.stderr.write(
      `hostmeter report ${config.window.label}: ${summary.written} written, ${summary.skipped} already reported, ` +
        `${summary.belowCoverage} below coverage, ${summary.partitions} partitions` +
        (config.upload ? `, ${summary.uploaded} uploaded, ${summary.uploadFailed} queued` : '') +
        '\n',
    );
  }
  return exitCode;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  const wantsHelp = args.includes('--help') || args.includes('-h');
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case '--version':
      case 'version':
        process.stdout.write(`hostmeter ${VERSION}\n`);
        return EXIT.ok;
      case 'collectors':
        process.stdout.write(`${collectorsTable()}\n`);
        return EXIT.ok;
      case 'report':
        if (wantsHelp) {
          process.stdout.write(
            `usage: hostmeter report [upload] [flags]\n\nFlags:\n${flagHelp(Object.values(REPORT_SETTINGS) as Setting[])}\n`,
          );
          return EXIT.ok;
        }
        return await report(args);
      case 'serve':
      case 'check-config':
        if (wantsHelp) {
          process.stdout.write(
            `usage: hostmeter ${command} [flags]\n\nFlags:\n${flagHelp(serveSettings(COLLECTORS))}\n`,
          );
          return EXIT.ok;
        }
        if (command === 'check-config') {
          await resolveServeConfig(args, COLLECTORS);
          return EXIT.ok;
        }
        return await serve(args);
      default:
        process.stderr.write(`hostmeter: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof SetupError) {
      process.stderr.write(`hostmeter: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
}
