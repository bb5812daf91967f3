import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CONSUMPTION_SCHEMA = fileURLToPath(
  new URL('../../schema/computer-consumption.xsd', import.meta.url),
);

/** Validates an XML document against an XSD with xmllint (Debian libxml2-utils); ok and xmllint's messages. */
export function validateXml(
  xml: string,
  schema: string = CONSUMPTION_SCHEMA,
): { ok: boolean; messages: string } {
  const result = spawnSync('xmllint', ['--noout', '--schema', schema, '-'], { input: xml, encoding: 'utf8' });
  if (result.error !== undefined) throw result.error;
  return { ok: result.status === 0, messages: result.stderr };
}
