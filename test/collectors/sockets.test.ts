import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { socketsCollector } from '../../src/collectors/sockets.ts';
import { collectOnce, fakeHost, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const IPV4 = {
  'proc/net/tcp': fixture('proc/net/tcp'),
  'proc/net/sockstat': fixture('proc/net/sockstat'),
};
const BOTH = {
  ...IPV4,
  'proc/net/tcp6': fixture('proc/net/tcp6'),
  'proc/net/sockstat6': fixture('proc/net/sockstat6'),
};

describe('sockets collector', () => {
  it('reports sockets in use per transport from sockstat and sockstat6', async () => {
    const out = await collectOnce(socketsCollector, testContext(fakeHost(BOTH)));
    const inUse = out.items
      .filter((o) => o.metric.name === 'hostmeter.network.sockets.in_use')
      .map((o) => [o.attributes['network.transport'], o.attributes['network.type'], o.value]);
    assert.deepEqual(inUse, [
      ['tcp', 'ipv4', 1],
      ['udp', 'ipv4', 0],
      ['udplite', 'ipv4', 0],
      ['raw', 'ipv4', 0],
      ['tcp', 'ipv6', 0],
      ['udp', 'ipv6', 0],
      ['udplite', 'ipv6', 0],
      ['raw', 'ipv6', 0],
    ]);
  });

  it('exports no IPv6 series when IPv6 is disabled', async () => {
    const out = await collectOnce(socketsCollector, testContext(fakeHost(IPV4)));
    assert.ok(out.items.length > 0);
    assert.ok(out.items.every((o) => o.attributes['network.type'] === 'ipv4'));
  });

  it('fails on a garbled sockstat', async () => {
    const host = { ...BOTH, 'proc/net/sockstat6': 'garbage\n' };
    await assert.rejects(collectOnce(socketsCollector, testContext(fakeHost(host))), /sockstat6/);
  });
});
