// The `hostmeter` command. Exit codes: 0 success, 1 runtime failure (e.g. the listen address is taken),
// 2 usage or configuration error (nothing was started).

import { readFileSync } from 'node:fs';
import { SetupError } from './collectors/collector.ts';
import { COLLECTORS } from './collectors/index.ts';
import { ConfigError } from './config/load.ts';
import { resolveServeConfig, serveSettings } from './config/serve-config.ts';
import type { Setting } from './config/settings.ts';
import { createLogger } from './log.ts';
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

Run 'hostmeter <command> --help' for the flags of a command.
  --help         Show this help
  --version      Show the version

Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
`;

function flagHelp(settings: readonly Setting[]): string {
  const rows = [
    ['--config.file=FILE', 'YAML file with any of the settings below (flags override it).'],
    ...settings.map((setting) =>
      setting.type === 'boolean'
        ? [
            `--[no-]${setting.key}`,
            `${setting.help} (default ${setting.defaultText === 'true' ? 'on' : 'off'})`,
          ]
        : [`--${setting.key}=VALUE`, `${setting.help} (default ${JSON.stringify(setting.defaultText)})`],
    ),
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
