import { ParseError } from './parse-error.ts';

/** Kernel TCP states (include/net/tcp_states.h), indexed by the hex `st` column of /proc/net/tcp. */
export const TCP_STATES = [
  'established',
  'syn_sent',
  'syn_recv',
  'fin_wait1',
  'fin_wait2',
  'time_wait',
  'close',
  'close_wait',
  'last_ack',
  'listen',
  'closing',
  'new_syn_recv',
] as const;

export type TcpState = (typeof TCP_STATES)[number];

/**
 * Counts the sockets of /proc/net/tcp or tcp6 by state; every state is present, zeros included.
 * States newer than new_syn_recv are ignored: the kernel does not list them in these files today.
 */
export function parseNetTcp(text: string, source = 'net/tcp'): Record<TcpState, number> {
  const counts = Object.fromEntries(TCP_STATES.map((state) => [state, 0])) as Record<TcpState, number>;
  const lines = text.split('\n');
  if (!/^\s*sl\s+local_address/.test(lines[0] ?? '')) throw new ParseError(source, 'missing header');
  for (const [index, line] of lines.entries()) {
    if (index === 0 || line.trim() === '') continue;
    const fields = line.trim().split(/\s+/);
    const st = fields[3];
    if (!fields[0]?.endsWith(':') || st === undefined || !/^[0-9A-Fa-f]{2}$/.test(st)) {
      throw new ParseError(source, 'expected `sl: local remote st ...`', index + 1);
    }
    const state = TCP_STATES[Number.parseInt(st, 16) - 1];
    if (state !== undefined) counts[state] += 1;
  }
  return counts;
}
