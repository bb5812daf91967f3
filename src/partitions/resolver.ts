// Decides the partition of processes seen for the first time: the first matching rule, else (with
// `inherit`) the partition of the nearest ancestor, else the aggregate of unassigned processes. With no
// rules at all, every user is its own partition.

import type { ProcessDetails } from '../io/proc-scan.ts';
import {
  expand,
  matchRules,
  type PartitionRule,
  type ProcessFacts,
  type RuleNeeds,
  ruleNeeds,
} from './rules.ts';

/** Where processes that no rule claims are counted, so that nothing silently disappears. */
export const UNASSIGNED = '_unassigned';

export interface Candidate {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly comm: string;
}

export interface Resolution {
  readonly partition: string;
  /** The cgroup v2 directory whose cpu.stat gives the partition's CPU, when its rule says so. */
  readonly cgroupCpu?: string;
  /** The directory whose size is the partition's disk usage, when its rule says so. */
  readonly diskUsage?: string;
}

export interface ResolverOptions {
  readonly rules: readonly PartitionRule[];
  readonly inherit: boolean;
  readonly userName: (uid: number) => string;
  /** Reads what the rules need beyond uid and comm; called at most once per new process. */
  readonly details: (pid: number, needs: RuleNeeds) => ProcessDetails;
}

export class PartitionResolver {
  readonly #options: ResolverOptions;
  readonly #needs: RuleNeeds;
  readonly #needsDetails: boolean;

  constructor(options: ResolverOptions) {
    this.#options = options;
    this.#needs = ruleNeeds(options.rules);
    this.#needsDetails = Object.values(this.#needs).some(Boolean);
  }

  #facts(candidate: Candidate): ProcessFacts {
    const base = { uid: candidate.uid, user: this.#options.userName(candidate.uid), comm: candidate.comm };
    if (!this.#needsDetails) return base;
    const details = this.#options.details(candidate.pid, this.#needs);
    return {
      ...base,
      exe: details.exe,
      cmdline: details.cmdline,
      cgroup: details.cgroup,
      ...(details.environ !== undefined && { environ: details.environ }),
    };
  }

  /** What the rules alone say of this process, without looking at its ancestors. */
  own(candidate: Candidate): Resolution | undefined {
    const facts = this.#facts(candidate);
    if (this.#options.rules.length === 0) return { partition: facts.user };
    const match = matchRules(this.#options.rules, facts);
    if (!match) return undefined;
    const { rule, captures } = match;
    return {
      partition: match.partition,
      ...(rule.cgroupCpu !== undefined && { cgroupCpu: expand(rule.cgroupCpu, facts, captures) }),
      ...(rule.diskUsage !== undefined && { diskUsage: expand(rule.diskUsage, facts, captures) }),
    };
  }

  /**
   * Resolves the new processes of one collection. `known` gives the partition of processes already
   * tracked (by pid); a new process's parent may itself be new, so parents are resolved first.
   */
  resolveAll(
    candidates: readonly Candidate[],
    known: (pid: number) => string | undefined,
  ): Map<number, Resolution> {
    const byPid = new Map(candidates.map((candidate) => [candidate.pid, candidate]));
    const resolved = new Map<number, Resolution>();
    const resolve = (candidate: Candidate, visiting: Set<number>): Resolution => {
      const done = resolved.get(candidate.pid);
      if (done) return done;
      let result = this.own(candidate);
      if (!result && this.#options.inherit && !visiting.has(candidate.ppid)) {
        visiting.add(candidate.pid);
        const parent = byPid.get(candidate.ppid);
        const inherited = parent ? resolve(parent, visiting).partition : known(candidate.ppid);
        if (inherited !== undefined && inherited !== UNASSIGNED) result = { partition: inherited };
      }
      result ??= { partition: UNASSIGNED };
      resolved.set(candidate.pid, result);
      return result;
    };
    for (const candidate of candidates) resolve(candidate, new Set());
    return resolved;
  }
}
