// Translates OpenTelemetry metric names and UCUM units into the Prometheus names that the
// OpenTelemetry Collector's Prometheus exporter produces (translation strategy
// UnderscoreEscapingWithSuffixes), so one dashboard serves hostmeter and the Collector alike.
// The JS exporter only sanitises names and appends `_total`; the unit word is ours to add.

const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tibibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  bit: 'bits',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

const PER_UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  mo: 'month',
  y: 'year',
};

export interface PrometheusName {
  /** Family name without the `_total` that the serializer appends to counters. */
  readonly name: string;
  /** The unit word carried in `# UNIT` (empty when the unit has no word). */
  readonly unit: string;
}

const sanitize = (text: string): string => text.replace(/[^a-zA-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '');

/** The unit word for a UCUM unit: `s` → `seconds`, `By/s` → `bytes_per_second`, `{packet}` → ``. */
export function unitWord(unit: string, isGauge: boolean): string {
  const withoutAnnotations = unit.replace(/\{[^}]*\}/g, '').trim();
  if (withoutAnnotations === '1') return isGauge ? 'ratio' : '';
  if (withoutAnnotations === '') return '';
  const [main = '', per = ''] = withoutAnnotations.split('/', 2);
  const mainWord = sanitize(UNIT_WORDS[main] ?? main);
  const perWord = sanitize(PER_UNIT_WORDS[per] ?? per);
  if (perWord === '') return mainWord;
  return mainWord === '' ? `per_${perWord}` : `${mainWord}_per_${perWord}`;
}

/** The Prometheus family name for an instrument: sanitized name plus the unit word when it is not already there. */
export function prometheusName(otelName: string, unit: string, isGauge: boolean): PrometheusName {
  const word = unitWord(unit, isGauge);
  const base = sanitize(otelName).replace(/_total$/, '');
  const tokens = base.split('_');
  const wordTokens = word.split('_');
  const hasWord = word === '' || tokens.slice(-wordTokens.length).join('_') === word;
  return { name: hasWord ? base : `${base}_${word}`, unit: word };
}
