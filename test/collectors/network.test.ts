import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer } from 'node:net';
import { describe, it } from 'node:test';
import { networkCollector } from '../../src/collectors/network.ts';
import { collectOnce, fakeHost, observed, TEST_SETTINGS, testContext } from '../helpers/context.ts';
import { fixture } from '../helpers/fixtures.ts';

const NET_DEV = `${fixture('proc/net/dev')}  veth1a2b:       5       1    0    0    0     0          0         0        7       1    0    0    0     0       0          0\n`;

function sysfsInterface(name: string, attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attributes).map(([attribute, value]) => [
      `sys/class/net/${name}/${attribute}`,
      `${value}\n`,
    ]),
  );
}

const HOST: Record<string, string> = {
  'proc/net/dev': NET_DEV,
  ...sysfsInterface('lo', { operstate: 'unknown', flags: '0x9', mtu: '65536' }),
  ...sysfsInterface('eth0', { operstate: 'up', flags: '0x1003', mtu: '1400', speed: '10000' }),
  ...sysfsInterface('ifb0', { operstate: 'down', flags: '0x82', mtu: '1500', speed: '-1' }),
  ...sysfsInterface('ifb1', { operstate: 'unknown', flags: '0x1002', mtu: '1500' }),
  ...sysfsInterface('veth1a2b', { operstate: 'up', flags: '0x1003', mtu: '1500' }),
};

const iface = (name: string) => ({ 'network.interface.name': name });
const directed = (name: string, direction: 'receive' | 'transmit') => ({
  'network.interface.name': name,
  'network.io.direction': direction,
});

describe('network collector', () => {
  it('reports traffic counters and link attributes per interface', async () => {
    const out = await collectOnce(networkCollector, testContext(fakeHost(HOST)));
    assert.equal(observed(out, 'system.network.io', directed('eth0', 'receive')), 204007334);
    assert.equal(observed(out, 'system.network.io', directed('eth0', 'transmit')), 278171);
    assert.equal(observed(out, 'system.network.packet.count', directed('eth0', 'receive')), 5179);
    assert.equal(observed(out, 'system.network.packet.count', directed('eth0', 'transmit')), 3029);
    assert.equal(observed(out, 'system.network.errors', directed('eth0', 'receive')), 0);
    assert.equal(observed(out, 'system.network.packet.dropped', directed('eth0', 'transmit')), 0);
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('eth0')), 1);
    assert.equal(observed(out, 'hostmeter.network.interface.mtu', iface('eth0')), 1400);
    assert.equal(observed(out, 'hostmeter.network.interface.speed', iface('eth0')), 1.25e9);
  });

  it('takes an unknown operstate from the IFF_UP flag, as for lo', async () => {
    const out = await collectOnce(networkCollector, testContext(fakeHost(HOST)));
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('lo')), 1);
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('ifb1')), 0);
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('ifb0')), 0);
  });

  it('exports no speed when the driver reports none', async () => {
    const out = await collectOnce(networkCollector, testContext(fakeHost(HOST)));
    assert.equal(observed(out, 'hostmeter.network.interface.speed', iface('ifb0')), undefined);
    assert.equal(observed(out, 'hostmeter.network.interface.speed', iface('lo')), undefined);
  });

  it('keeps the traffic of an interface that has no sysfs entry', async () => {
    const rest = Object.fromEntries(Object.entries(HOST).filter(([path]) => !path.includes('/ifb1/')));
    const out = await collectOnce(networkCollector, testContext(fakeHost(rest)));
    assert.equal(observed(out, 'system.network.io', directed('ifb1', 'receive')), 0);
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('ifb1')), undefined);
  });

  it('skips excluded interfaces', async () => {
    const ctx = {
      ...testContext(fakeHost(HOST)),
      settings: { ...TEST_SETTINGS, network: { deviceExclude: /^veth/ } },
    };
    const out = await collectOnce(networkCollector, ctx);
    const names = new Set(out.items.map((o) => o.attributes['network.interface.name']));
    assert.deepEqual([...names], ['lo', 'ifb0', 'ifb1', 'eth0']);
    const all = await collectOnce(networkCollector, testContext(fakeHost(HOST)));
    assert.equal(observed(all, 'system.network.io', directed('veth1a2b', 'transmit')), 7);
  });

  it('fails on an unreadable flags value', async () => {
    const host = { ...HOST, 'sys/class/net/lo/flags': 'garbage\n' };
    await assert.rejects(collectOnce(networkCollector, testContext(fakeHost(host))), /flags/);
  });

  it('counts bytes this test sends over loopback on the real host', async () => {
    const size = 4 * 1024 * 1024;
    const lo = directed('lo', 'receive');
    const before = observed(await collectOnce(networkCollector, testContext()), 'system.network.io', lo);
    assert.notEqual(before, undefined, 'no system.network.io series for lo');

    let received = 0;
    let onDrained = (): void => {};
    const drained = new Promise<void>((resolve) => {
      onDrained = resolve;
    });
    const server = createServer((socket) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.on('end', onDrained);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    connect((server.address() as AddressInfo).port, '127.0.0.1').end(Buffer.alloc(size, 1));
    await drained;
    server.close();
    assert.equal(received, size);

    const out = await collectOnce(networkCollector, testContext());
    const after = observed(out, 'system.network.io', lo);
    assert.ok(
      after !== undefined && before !== undefined && after - before >= size,
      `lo: ${before} -> ${after}`,
    );
    assert.equal(observed(out, 'hostmeter.network.interface.up', iface('lo')), 1);
    assert.equal(observed(out, 'hostmeter.network.interface.speed', iface('lo')), undefined);
  });
});
