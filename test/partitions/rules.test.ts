import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PartitionResolver, UNASSIGNED } from '../../src/partitions/resolver.ts';
import { matchRules, parseRules, RuleError, ruleNeeds } from '../../src/partitions/rules.ts';

const facts = (user: string, extra: Partial<Parameters<typeof matchRules>[1]> = {}) => ({
  uid: 1003,
  user,
  comm: 'python3',
  ...extra,
});

describe('partition rules', () => {
  it('names a partition from the captures of a user regex', () => {
    const rules = parseRules([{ name: 'slappart$1', 'user-regex': '^slapuser(\\d+)$' }]);
    assert.equal(matchRules(rules, facts('slapuser3'))?.partition, 'slappart3');
    assert.equal(matchRules(rules, facts('alice')), undefined);
  });

  it('takes the first rule that matches, with named groups, uid ranges and built-ins', () => {
    const rules = parseRules([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: partition-name templates
      { name: 'ci-${job}', env: { CI_JOB_ID: '^(?<job>\\d+)$' }, 'env-absent': ['DEBUG'] },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: partition-name templates
      { name: 'staff-${user}', uid: '1000-1999' },
      { name: 'web', comm: '^nginx' },
    ]);
    const environ = new Map([['CI_JOB_ID', '42']]);
    assert.equal(matchRules(rules, facts('bob', { environ }))?.partition, 'ci-42');
    const debugging = new Map([...environ, ['DEBUG', '1']]);
    assert.equal(matchRules(rules, facts('bob', { environ: debugging }))?.partition, 'staff-bob');
    assert.equal(matchRules(rules, facts('www', { uid: 33, comm: 'nginx' }))?.partition, 'web');
  });

  it('matches no environment condition when the environment could not be read', () => {
    const rules = parseRules([{ name: 'quiet', 'env-absent': ['DEBUG'] }]);
    assert.equal(matchRules(rules, facts('bob')), undefined);
    assert.equal(matchRules(rules, facts('bob', { environ: new Map() }))?.partition, 'quiet');
  });

  it('matches exe, cmdline and cgroup, and says which details it needs', () => {
    const rules = parseRules([
      { name: 'job', exe: '^/usr/bin/python3', cmdline: '--job=(\\w+)', cgroup: '^/slurm' },
    ]);
    assert.deepEqual(ruleNeeds(rules), { exe: true, cmdline: true, cgroup: true, environ: false });
    const hit = facts('bob', {
      exe: '/usr/bin/python3.11',
      cmdline: 'python3 run.py --job=x1',
      cgroup: '/slurm/job7',
    });
    assert.equal(matchRules(rules, hit)?.partition, 'job');
    assert.equal(matchRules(rules, { ...hit, cgroup: '/' }), undefined);
  });

  it('rejects bad rules with the path of the offending key', () => {
    const cases: [unknown, (string | number)[], RegExp][] = [
      [[{ 'user-regex': '(unclosed' }], [0, 'user-regex'], /invalid regular expression/],
      [[{ name: 'x', uid: 'lots' }], [0, 'uid'], /expected a uid or a range/],
      [[{ name: 'x' }], [0], /at least one of/],
      [[{ name: 'x', user: 'a' }, { usr: 'b' }], [1, 'usr'], /unknown rule key/],
      [[{ name: 'x', env: { A: '[' } }], [0, 'env', 'A'], /invalid regular expression/],
      ['rules', [], /expected a list/],
    ];
    for (const [value, path, message] of cases) {
      assert.throws(
        () => parseRules(value),
        (error: unknown) =>
          error instanceof RuleError &&
          message.test(error.message) &&
          assert.deepEqual(error.path, path) === undefined,
      );
    }
  });
});

describe('PartitionResolver', () => {
  const names = new Map([
    [0, 'root'],
    [1003, 'slapuser3'],
  ]);
  const resolver = (rules: unknown, inherit = true) =>
    new PartitionResolver({
      rules: parseRules(rules),
      inherit,
      userName: (uid) => names.get(uid) ?? String(uid),
      details: () => ({ cmdline: '', exe: '', cgroup: '', environ: undefined }),
    });

  it('makes each user a partition when there are no rules, numeric when passwd does not know it', () => {
    const resolved = resolver([]).resolveAll(
      [
        { pid: 10, ppid: 1, uid: 1003, comm: 'sh' },
        { pid: 11, ppid: 1, uid: 4242, comm: 'sh' },
      ],
      () => undefined,
    );
    assert.equal(resolved.get(10)?.partition, 'slapuser3');
    assert.equal(resolved.get(11)?.partition, '4242');
  });

  it('puts an unmatched process in its nearest matched ancestor, new or already tracked', () => {
    const rules = [{ name: 'slappart$1', 'user-regex': '^slapuser(\\d+)$' }];
    const candidates = [
      { pid: 20, ppid: 1, uid: 1003, comm: 'runner' },
      { pid: 21, ppid: 20, uid: 0, comm: 'sudo' },
      { pid: 22, ppid: 21, uid: 0, comm: 'child' },
      { pid: 30, ppid: 99, uid: 0, comm: 'orphan-of-tracked' },
      { pid: 40, ppid: 1, uid: 0, comm: 'daemon' },
    ];
    const resolved = resolver(rules).resolveAll(candidates, (pid) => (pid === 99 ? 'slappart7' : undefined));
    assert.equal(resolved.get(21)?.partition, 'slappart3');
    assert.equal(resolved.get(22)?.partition, 'slappart3');
    assert.equal(resolved.get(30)?.partition, 'slappart7');
    assert.equal(resolved.get(40)?.partition, UNASSIGNED);
    const flat = resolver(rules, false).resolveAll(candidates, () => undefined);
    assert.equal(flat.get(22)?.partition, UNASSIGNED);
  });

  it('expands the cgroup and disk-usage templates of the matching rule', () => {
    const rules = [
      {
        name: 'slappart$1',
        'user-regex': '^slapuser(\\d+)$',
        'cgroup-cpu': '/sys/fs/cgroup/unified/slap/part$1',
        'disk-usage': '/srv/slapgrid/slappart$1',
      },
    ];
    const resolved = resolver(rules).resolveAll([{ pid: 5, ppid: 1, uid: 1003, comm: 'x' }], () => undefined);
    assert.deepEqual(resolved.get(5), {
      partition: 'slappart3',
      cgroupCpu: '/sys/fs/cgroup/unified/slap/part3',
      diskUsage: '/srv/slapgrid/slappart3',
    });
  });
});
