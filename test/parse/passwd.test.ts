import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePasswd } from '../../src/parse/passwd.ts';
import { fixture } from '../helpers/fixtures.ts';

describe('parsePasswd', () => {
  it('reads the capture from this machine', () => {
    const users = parsePasswd(fixture('etc/passwd'));
    assert.equal(users.size, 26);
    assert.equal(users.get(0), 'root');
    assert.equal(users.get(65534), 'nobody');
    assert.equal(users.get(102), 'prometheus');
  });

  it('skips comments, blank, NIS and malformed lines, and keeps the first entry for a uid', () => {
    const users = parsePasswd(
      [
        '# local users',
        'root:x:0:0:root:/root:/bin/bash',
        '',
        '#disabled:x:7:7::/:/bin/false',
        '+::::::',
        '-baduser::::::',
        'short:x:12:12',
        'toolong:x:13:13:a:b:c:d',
        'letters:x:1x:14::/:/bin/sh',
        'negative:x:-1:14::/:/bin/sh',
        ':x:15:15::/:/bin/sh',
        'toor:x:0:0:second root:/root:/bin/sh',
        'alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash',
      ].join('\n'),
    );
    assert.deepEqual(
      users,
      new Map([
        [0, 'root'],
        [1000, 'alice'],
      ]),
    );
  });

  it('gives an empty map for an empty file', () => {
    assert.equal(parsePasswd('').size, 0);
  });
});
