import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { tcpstatCollector } from '../../src/collectors/tcpstat.ts';
import { TCP_STATES } from '../../src/parse/net-tcp.ts';
import { collectOnce, fakeHost, observed, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const IPV4_ONLY = {
  'proc/net/tcp': fixture('proc/net/tcp'),
};
const BOTH = {
  ...IPV4_ONLY,
  'proc/net/tcp6': fixture('proc/net/tcp6'),
};

const connections = (type: string, state: string) => ({
  'network.transport': 'tcp',
  'network.type': type,
  'network.connection.state': state,
});

describe('tcpstat collector', () => {
  it('counts TCP connections by state for both IP versions, zeros included', async () => {
    const out = await collectOnce(tcpstatCollector, testContext(fakeHost(BOTH)));
    const series = out.items.filter((o) => o.metric.name === 'system.network.connections');
    assert.equal(series.length, 2 * TCP_STATES.length);
    assert.equal(observed(out, 'system.network.connections', connections('ipv4', 'listen')), 2);
    assert.equal(observed(out, 'system.network.connections', connections('ipv4', 'established')), 2);
    assert.equal(observed(out, 'system.network.connections', connections('ipv4', 'time_wait')), 1);
    assert.equal(observed(out, 'system.network.connections', connections('ipv4', 'close_wait')), 0);
    assert.equal(observed(out, 'system.network.connections', connections('ipv6', 'listen')), 1);
    assert.equal(observed(out, 'system.network.connections', connections('ipv6', 'new_syn_recv')), 0);
  });

  it('exports no IPv6 series when IPv6 is disabled', async () => {
    const out = await collectOnce(tcpstatCollector, testContext(fakeHost(IPV4_ONLY)));
    assert.equal(out.items.length, TCP_STATES.length);
    assert.ok(out.items.every((o) => o.attributes['network.type'] === 'ipv4'));
  });

  it('fails on a garbled socket table', async () => {
    const host = { ...BOTH, 'proc/net/tcp6': 'garbage\n' };
    await assert.rejects(collectOnce(tcpstatCollector, testContext(fakeHost(host))), /tcp6/);
  });

  it('counts listening sockets this test opens on the real host', async (t) => {
    const listening = connections('ipv4', 'listen');
    const before = observed(
      await collectOnce(tcpstatCollector, testContext()),
      'system.network.connections',
      listening,
    );
    assert.notEqual(before, undefined);

    const servers: Server[] = [];
    t.after(() => {
      for (const server of servers) server.close();
    });
    for (let i = 0; i < 5; i++) {
      const server = createServer().listen(0, '127.0.0.1');
      servers.push(server);
      await once(server, 'listening');
    }

    const after = observed(
      await collectOnce(tcpstatCollector, testContext()),
      'system.network.connections',
      listening,
    );
    assert.ok(
      after !== undefined && before !== undefined && after - before >= servers.length,
      `${before} -> ${after}`,
    );
  });
});
