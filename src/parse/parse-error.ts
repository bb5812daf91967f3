/** A kernel file did not have the expected shape. Parsers throw it; they never return half a record. */
export class ParseError extends Error {
  readonly source: string;
  readonly line: number | undefined;
  constructor(source: string, message: string, line?: number) {
    super(`${source}${line === undefined ? '' : `:${line}`}: ${message}`);
    this.name = 'ParseError';
    this.source = source;
    this.line = line;
  }
}

/** Parses a non-negative decimal integer field, throwing ParseError for anything else. */
export function parseCount(text: string | undefined, source: string, what: string, line?: number): number {
  if (text === undefined || !/^\d+$/.test(text)) {
    throw new ParseError(source, `${what}: expected a number, got ${JSON.stringify(text ?? '')}`, line);
  }
  return Number(text);
}

/** Parses a decimal number (integer or fraction, possibly negative), throwing ParseError otherwise. */
export function parseDecimal(text: string | undefined, source: string, what: string, line?: number): number {
  if (text === undefined || !/^-?\d+(\.\d+)?$/.test(text)) {
    throw new ParseError(source, `${what}: expected a number, got ${JSON.stringify(text ?? '')}`, line);
  }
  return Number(text);
}
