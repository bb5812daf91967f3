import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The text of a fixture file under test/fixtures/. */
export function fixture(relativePath: string): string {
  return readFileSync(`${FIXTURES}${relativePath}`, 'latin1');
}
