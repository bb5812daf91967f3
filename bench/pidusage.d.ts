// pidusage ships no type declarations; this covers the single-pid promise form the benchmark uses.
declare module 'pidusage' {
  interface Status {
    /** CPU usage in percent since the previous call for this pid. */
    cpu: number;
    /** Resident set size in bytes. */
    memory: number;
    /** Total CPU time (user + system) in ms. */
    ctime: number;
    /** ms since the process started. */
    elapsed: number;
    timestamp: number;
    pid: number;
    ppid: number;
  }
  function pidusage(pid: number | string): Promise<Status>;
  namespace pidusage {
    /** Drops the per-pid history and its timer, which would otherwise keep the event loop alive. */
    function clear(): void;
  }
  export = pidusage;
}
