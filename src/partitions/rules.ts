// Partition rules: which partition (tenant) a process belongs to. The first rule that matches wins; the
// partition name is a template over what the rule's regular expressions captured.
//
// In the config file:
//   partitions:
//     rules:
//       - name: slappart$1               # template: $1.. numbered captures, ${group} named ones, ${user}, ${uid}, ${comm}
//         user-regex: ^slapuser(\d+)$
//       - name: ci-${job}
//         env: { CI_JOB_ID: ^(?<job>\d+)$ }
//         env-absent: [DEBUG]
//         cgroup-cpu: /sys/fs/cgroup/unified/ci.slice/job-${job}.scope   # CPU from this cgroup's cpu.stat
//       - name: web
//         user: www-data                 # an exact user name, which must exist in the host's passwd
//         comm: ^(nginx|php-fpm)
//         uid: 33                        # or a range: 1000-1999
//         exe: ^/usr/sbin/
//         cmdline: --pool=web
//         cgroup: ^/system.slice/nginx
//         env-present: [WEB]
//         disk-usage: /srv/www           # measured in the background (docs/metrics.md)

/** Thrown for a bad rule; `path` is below `partitions.rules`, e.g. `[2, 'user-regex']`. */
export class RuleError extends Error {
  readonly path: readonly (string | number)[];
  constructor(path: readonly (string | number)[], message: string) {
    super(message);
    this.name = 'RuleError';
    this.path = path;
  }
}

export interface PartitionRule {
  /** Position in the list, for messages. */
  readonly index: number;
  readonly name: string;
  readonly user?: string;
  readonly userRegex?: RegExp;
  readonly uid?: { readonly from: number; readonly to: number };
  readonly comm?: RegExp;
  readonly exe?: RegExp;
  readonly cmdline?: RegExp;
  readonly cgroup?: RegExp;
  readonly env: ReadonlyMap<string, RegExp>;
  readonly envPresent: readonly string[];
  readonly envAbsent: readonly string[];
  /** Template of a cgroup v2 directory whose cpu.stat gives the partition's CPU. */
  readonly cgroupCpu?: string;
  /** Template of a directory whose size is the partition's disk usage. */
  readonly diskUsage?: string;
}

/** What a rule can look at; the details are read only when some rule needs them. */
export interface ProcessFacts {
  readonly uid: number;
  readonly user: string;
  readonly comm: string;
  readonly exe?: string;
  readonly cmdline?: string;
  readonly cgroup?: string;
  readonly environ?: ReadonlyMap<string, string>;
}

export interface RuleNeeds {
  readonly exe: boolean;
  readonly cmdline: boolean;
  readonly cgroup: boolean;
  readonly environ: boolean;
}

/** The keys that select processes; a rule needs at least one. */
const MATCHER_KEYS = [
  'user',
  'user-regex',
  'uid',
  'comm',
  'exe',
  'cmdline',
  'cgroup',
  'env',
  'env-present',
  'env-absent',
] as const;

const RULE_KEYS = new Set<string>(['name', ...MATCHER_KEYS, 'cgroup-cpu', 'disk-usage']);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function compile(value: unknown, path: (string | number)[]): RegExp {
  if (typeof value !== 'string') throw new RuleError(path, 'expected a regular expression');
  try {
    return new RegExp(value);
  } catch (error) {
    throw new RuleError(path, `invalid regular expression: ${(error as Error).message}`);
  }
}

function text(value: unknown, path: (string | number)[]): string {
  if (typeof value !== 'string' || value === '') throw new RuleError(path, 'expected a non-empty string');
  return value;
}

function names(value: unknown, path: (string | number)[]): string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw new RuleError(path, 'expected a list of variable names');
  }
  return value as string[];
}

function uidRange(value: unknown, path: (string | number)[]): { from: number; to: number } {
  const match =
    typeof value === 'number'
      ? [String(value), String(value)]
      : /^(\d+)(?:-(\d+))?$/.exec(String(value))?.slice(1);
  const from = Number(match?.[0]);
  const to = Number(match?.[1] ?? match?.[0]);
  if (!match || !Number.isInteger(from) || !Number.isInteger(to) || to < from) {
    throw new RuleError(path, `expected a uid or a range such as 1000-1999, got ${JSON.stringify(value)}`);
  }
  return { from, to };
}

/** Validates the `partitions.rules` list of the config file. */
export function parseRules(value: unknown): PartitionRule[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new RuleError([], 'expected a list of rules');
  return value.map((raw, index): PartitionRule => {
    if (!isRecord(raw)) throw new RuleError([index], 'expected a rule (a mapping)');
    for (const key of Object.keys(raw)) {
      if (!RULE_KEYS.has(key))
        throw new RuleError([index, key], `unknown rule key (known: ${[...RULE_KEYS].join(', ')})`);
    }
    const at = (key: string): (string | number)[] => [index, key];
    const env = new Map<string, RegExp>();
    if (raw.env !== undefined) {
      if (!isRecord(raw.env))
        throw new RuleError(at('env'), 'expected a mapping of variable to regular expression');
      for (const [variable, pattern] of Object.entries(raw.env))
        env.set(variable, compile(pattern, [index, 'env', variable]));
    }

    if (!MATCHER_KEYS.some((key) => raw[key] !== undefined)) {
      throw new RuleError([index], `a rule needs at least one of ${MATCHER_KEYS.join(', ')}`);
    }
    return {
      index,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a partition-name template, expanded by expand()
      name: raw.name === undefined ? '${user}' : text(raw.name, at('name')),
      ...(raw.user !== undefined && { user: text(raw.user, at('user')) }),
      ...(raw['user-regex'] !== undefined && { userRegex: compile(raw['user-regex'], at('user-regex')) }),
      ...(raw.uid !== undefined && { uid: uidRange(raw.uid, at('uid')) }),
      ...(raw.comm !== undefined && { comm: compile(raw.comm, at('comm')) }),
      ...(raw.exe !== undefined && { exe: compile(raw.exe, at('exe')) }),
      ...(raw.cmdline !== undefined && { cmdline: compile(raw.cmdline, at('cmdline')) }),
      ...(raw.cgroup !== undefined && { cgroup: compile(raw.cgroup, at('cgroup')) }),
      env,
      envPresent: raw['env-present'] === undefined ? [] : names(raw['env-present'], at('env-present')),
      envAbsent: raw['env-absent'] === undefined ? [] : names(raw['env-absent'], at('env-absent')),
      ...(raw['cgroup-cpu'] !== undefined && { cgroupCpu: text(raw['cgroup-cpu'], at('cgroup-cpu')) }),
      ...(raw['disk-usage'] !== undefined && { diskUsage: text(raw['disk-usage'], at('disk-usage')) }),
    };
  });
}

/** Which per-process details the rules read, so the scanner reads only those. */
export function ruleNeeds(rules: readonly PartitionRule[]): RuleNeeds {
  return {
    exe: rules.some((rule) => rule.exe),
    cmdline: rules.some((rule) => rule.cmdline),
    cgroup: rules.some((rule) => rule.cgroup),
    environ: rules.some(
      (rule) => rule.env.size > 0 || rule.envPresent.length > 0 || rule.envAbsent.length > 0,
    ),
  };
}

/** Captures of one match: numbered in the order the rule's expressions are tried, plus named groups. */
interface Captures {
  readonly numbered: string[];
  readonly named: Map<string, string>;
}

function capture(pattern: RegExp | undefined, subject: string | undefined, captures: Captures): boolean {
  if (pattern === undefined) return true;
  if (subject === undefined) return false;
  const match = pattern.exec(subject);
  if (!match) return false;
  captures.numbered.push(...match.slice(1).map((group) => group ?? ''));
  for (const [name, group] of Object.entries(match.groups ?? {})) captures.named.set(name, group ?? '');
  return true;
}

/** Expands `$1`, `${1}`, `${group}`, `${user}`, `${uid}` and `${comm}` in a template. */
export function expand(template: string, facts: ProcessFacts, captures: Captures): string {
  return template.replace(
    /\$(?:(\d+)|\{([A-Za-z_][\w]*|\d+)\})/g,
    (_, digits: string | undefined, name: string | undefined) => {
      const key = digits ?? name ?? '';
      if (/^\d+$/.test(key)) return captures.numbered[Number(key) - 1] ?? '';
      if (captures.named.has(key)) return captures.named.get(key) ?? '';
      if (key === 'user') return facts.user;
      if (key === 'uid') return String(facts.uid);
      if (key === 'comm') return facts.comm;
      return '';
    },
  );
}

export interface RuleMatch {
  readonly rule: PartitionRule;
  readonly partition: string;
  readonly captures: Captures;
}

/** The first rule that matches the process, with the partition name it gives; undefined when none does. */
export function matchRules(rules: readonly PartitionRule[], facts: ProcessFacts): RuleMatch | undefined {
  for (const rule of rules) {
    const captures: Captures = { numbered: [], named: new Map() };
    if (rule.user !== undefined && rule.user !== facts.user) continue;
    if (rule.uid && (facts.uid < rule.uid.from || facts.uid > rule.uid.to)) continue;
    if (!capture(rule.userRegex, facts.user, captures)) continue;
    if (!capture(rule.comm, facts.comm, captures)) continue;
    if (!capture(rule.exe, facts.exe, captures)) continue;
    if (!capture(rule.cmdline, facts.cmdline, captures)) continue;
    if (!capture(rule.cgroup, facts.cgroup, captures)) continue;
    const environ = facts.environ;
    // An unreadable environment matches no environment condition, not even an absence.
    const readsEnviron = rule.env.size > 0 || rule.envPresent.length > 0 || rule.envAbsent.length > 0;
    if (readsEnviron && environ === undefined) continue;
    if (![...rule.env].every(([variable, pattern]) => capture(pattern, environ?.get(variable), captures)))
      continue;
    if (!rule.envPresent.every((variable) => environ?.has(variable))) continue;
    if (!rule.envAbsent.every((variable) => !environ?.has(variable))) continue;
    const partition = expand(rule.name, facts, captures);
    if (partition !== '') return { rule, partition, captures };
  }
  return undefined;
}
