// Resolves the configuration of one command from defaults, an optional YAML file and flags (flags win).
// A problem is reported as a ConfigError that names the file, line and key (or the flag), and the
// CLI exits with code 2 before anything listens.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Node } from 'yaml';
import type { Setting } from './settings.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Where a value came from, for error messages: `--web.listen-address` or `hostmeter.yml:3: web.listen-address`. */
type Origin = string;

interface RawValue {
  readonly value: unknown;
  readonly origin: Origin;
  /** Where a part of a structured value was set, for errors about one item of a list. */
  readonly originOf?: (path: readonly (string | number)[]) => Origin;
}

/** Each setting's parsed value: from a flag, else the config file, else its default. */
export type ResolvedSettings = ReadonlyMap<string, unknown>;

export const CONFIG_FILE_FLAG = 'config.file';

/** `collector.cpu.enabled: false` in YAML means the same as `collector.cpu: false` (YAML cannot hold both forms). */
const normalizeKey = (key: string): string => key.replace(/^(collector\.[^.]+)\.enabled$/, '$1');

function validate<T>(setting: Setting<T>, raw: RawValue): T {
  try {
    return setting.parse(raw.value);
  } catch (error) {
    const path = (error as { path?: readonly (string | number)[] }).path;
    const origin = path && raw.originOf ? raw.originOf(path) : raw.origin;
    throw new ConfigError(`${origin}: ${(error as Error).message}`);
  }
}

/**
 * Reads a YAML config file into dotted keys, each with the line it was set on. The YAML parser is
 * loaded only here: it costs about 12 MB of resident memory, which a daemon run from flags alone need not carry.
 */
export async function readConfigFile(
  file: string,
  known: ReadonlySet<string>,
): Promise<Map<string, RawValue>> {
  const { isMap, isScalar, isSeq, LineCounter, parseDocument } = await import('yaml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `${file}: cannot read config file: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
  const lines = new LineCounter();
  const lineOf = (node: Node | null | undefined): number =>
    node?.range ? lines.linePos(node.range[0]).line : 1;
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const syntaxError = doc.errors[0];
  if (syntaxError) {
    const line = lines.linePos(syntaxError.pos[0]).line;
    throw new ConfigError(`${file}:${line}: invalid YAML: ${syntaxError.message.split('\n')[0]}`);
  }
  const values = new Map<string, RawValue>();
  if (doc.contents === null) return values;
  if (!isMap(doc.contents))
    throw new ConfigError(`${file}:1: expected a mapping of settings at the top level`);

  const walk = (node: Node, prefix: string): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const name = isScalar(keyNode) ? String(keyNode.value) : '';
      const key = prefix ? `${prefix}.${name}` : name;
      const value = pair.value as Node | null;
      if (isMap(value)) {
        walk(value, key);
        continue;
      }
      const normalized = normalizeKey(key);
      if (!known.has(normalized)) {
        throw new ConfigError(`${file}:${lineOf(keyNode)}: ${key}: unknown setting`);
      }
      values.set(normalized, {
        value: value === null ? null : value.toJSON(),
        origin: `${file}:${lineOf(value ?? keyNode)}: ${key}`,
        originOf: (path) => {
          const inner =
            isMap(value) || isSeq(value) ? (value.getIn(path, true) as Node | undefined) : undefined;
          const where = path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
          return `${file}:${lineOf(inner ?? value ?? keyNode)}: ${key}${where}`;
        },
      });
    }
  };
  walk(doc.contents, '');
  return values;
}

/**
 * Resolves `settings` from command-line `args`, the file named by `--config.file`, and the defaults.
 * Throws ConfigError for an unknown flag or key, a bad value, or an unreadable or malformed file.
 */
export async function resolveSettings(
  args: readonly string[],
  settings: readonly Setting[],
): Promise<ResolvedSettings> {
  const options: Record<string, { type: 'string' | 'boolean' }> = { [CONFIG_FILE_FLAG]: { type: 'string' } };
  for (const setting of settings) if (setting.type !== 'file') options[setting.key] = { type: setting.type };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: false,
      allowNegative: true,
    });
  } catch (error) {
    const flag = /'(-[^']*)'/.exec((error as Error).message)?.[1];
    const code = (error as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new ConfigError(`unknown flag ${flag ?? ''}`.trim());
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
      throw new ConfigError(`unexpected argument ${flag ?? ''}`.trim());
    throw new ConfigError((error as Error).message);
  }

  const known = new Set(settings.map((setting) => setting.key));
  const configFile = parsed.values[CONFIG_FILE_FLAG];
  const fromFile =
    typeof configFile === 'string' ? await readConfigFile(configFile, known) : new Map<string, RawValue>();

  const resolved = new Map<string, unknown>();
  for (const setting of settings) {
    const flagValue = parsed.values[setting.key];
    const raw: RawValue =
      flagValue !== undefined
        ? { value: flagValue, origin: `--${setting.key}` }
        : (fromFile.get(setting.key) ?? {
            value:
              setting.type === 'boolean'
                ? setting.defaultText === 'true'
                : setting.type === 'file'
                  ? null
                  : setting.defaultText,
            origin: `default of --${setting.key}`,
          });
    resolved.set(setting.key, validate(setting, raw));
  }
  return resolved;
}

/** The typed value of one setting from a resolved map. */
export function settingValue<T>(resolved: ResolvedSettings, setting: Setting<T>): T {
  if (!resolved.has(setting.key)) throw new Error(`setting ${setting.key} was not resolved`);
  return resolved.get(setting.key) as T;
}
