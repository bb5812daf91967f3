import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { documentedMetrics, METRICS_DOC, renderMetricsDoc } from '../../scripts/metrics-doc.ts';
import { COLLECTORS } from '../../src/collectors/index.ts';
import { startHostmeter } from '../helpers/hostmeter.ts';

interface LiveFamily {
  type: string;
  labels: Set<string>;
  samples: number;
}

/** Families of a text-format exposition with the label keys their samples carry. */
function liveFamilies(text: string): Map<string, LiveFamily> {
  const families = new Map<string, LiveFamily>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) families.set(type[1], { type: type[2], labels: new Set(), samples: 0 });
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    assert.ok(sample?.[1], `unparsable sample line: ${line}`);
    const name = sample[1];
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
    assert.ok(family, `sample ${name} has no # TYPE`);
    family.samples += 1;
    for (const match of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) {
      if (match[1] !== 'le') family.labels.add(match[1] as string);
    }
  }
  // A family with no sample (prom-client prints the header of a gauge it reset) exports nothing.
  for (const [name, family] of families) if (family.samples === 0) families.delete(name);
  return families;
}

describe('docs/metrics.md', () => {
  it('is what `npm run docs` generates from the metric declarations', () => {
    assert.equal(
      readFileSync(METRICS_DOC, 'utf8'),
      renderMetricsDoc(),
      'docs/metrics.md is stale: run npm run docs',
    );
  });

  it('lists exactly the families a live /metrics exports, with their types and labels', async () => {
    // Every collector on, so the default-off ones are checked too.
    const exporter = await startHostmeter(COLLECTORS.map((collector) => `--collector.${collector.name}`));
    let text: string;
    try {
      text = await (await fetch(`${exporter.url}/metrics`)).text();
    } finally {
      await exporter.stop();
    }
    const live = liveFamilies(text);
    live.delete('target_info');
    const documented = new Map(documentedMetrics().map((metric) => [metric.exported, metric]));
    for (const [name, family] of live) {
      const doc = documented.get(name);
      assert.ok(doc, `${name} is exported but not documented`);
      assert.equal(family.type, doc.type, `${name} type`);
      assert.deepEqual([...family.labels].sort(), [...doc.labels].sort(), `${name} labels`);
    }
    for (const [name, doc] of documented) {
      if (!live.has(name)) {
        assert.ok(
          doc.spec.availability,
          `${name} is documented as always present but this scrape did not export it`,
        );
      }
    }
  });
});
