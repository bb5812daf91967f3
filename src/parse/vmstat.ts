import { ParseError, parseCount } from './parse-error.ts';

/** The /proc/vmstat event counters hostmeter uses. */
export interface Vmstat {
  /** Pages swapped in and out since boot. */
  readonly swap: { readonly pagesIn: number; readonly pagesOut: number } | undefined;
  /** Page faults since boot; `all` includes the major ones. */
  readonly faults: { readonly all: number; readonly major: number } | undefined;
}

const SOURCE = 'vmstat';

/**
 * Parses /proc/vmstat (`pgfault 1836551` lines). The event counters are absent on kernels built without
 * CONFIG_VM_EVENT_COUNTERS, hence the optional groups.
 */
export function parseVmstat(text: string): Vmstat {
  const values = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    if (raw === '') return;
    const [key = '', value, extra] = raw.split(' ');
    if (extra !== undefined)
      throw new ParseError(SOURCE, `unexpected line ${JSON.stringify(raw)}`, index + 1);
    values.set(key, parseCount(value, SOURCE, key, index + 1));
  });
  if (values.size === 0) throw new ParseError(SOURCE, 'empty file');
  const pagesIn = values.get('pswpin');
  const pagesOut = values.get('pswpout');
  const all = values.get('pgfault');
  const major = values.get('pgmajfault');
  return {
    swap: pagesIn === undefined || pagesOut === undefined ? undefined : { pagesIn, pagesOut },
    faults: all === undefined || major === undefined ? undefined : { all, major },
  };
}
