/**
 * Parses /etc/passwd (`name:password:uid:gid:gecos:home:shell`) into uid → user name.
 *
 * Unlike kernel files, passwd is edited by hand and by tools: comments, NIS `+`/`-` entries, and stray
 * lines are found in the wild, and glibc itself skips lines it cannot parse. So a malformed line is
 * skipped instead of failing the whole file, which would leave every process without a user name.
 * The first entry for a uid wins, as it does for getpwuid(3).
 */
export function parsePasswd(text: string): ReadonlyMap<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    const [name, , uid] = fields;
    if (fields.length !== 7 || !name || name.startsWith('#') || uid === undefined || !/^\d+$/.test(uid))
      continue;
    const id = Number(uid);
    if (!users.has(id)) users.set(id, name);
  }
  return users;
}
