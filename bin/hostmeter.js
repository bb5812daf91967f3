#!/usr/bin/env node
// Runs the compiled dist/ (npm ci and npm start build it). Compiled JavaScript rather than Node's type
// stripping: stripping keeps a WebAssembly compiler resident, about 18 MB of RSS for a long-lived daemon.
import { setFlagsFromString } from 'node:v8';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `hostmeter needs Node.js 22.15 or later (this is ${process.version}); run it through npm (npm start, npx hostmeter), which uses the Node 24 the project installs\n`,
  );
  process.exit(2);
}
// V8 otherwise lets the heap of an idle daemon grow to 160 MB of RSS over 600 scrapes before collecting;
// with --optimize-for-size it stays near 95 MB (docs/benchmarks.md). Set here so every way of starting
// the daemon gets it; V8 reads this GC heuristic at run time. Not for `report`, which holds millions of
// samples: there the heuristic's frequent full collections took half of the run's CPU.
if (process.argv[2] === 'serve') setFlagsFromString('--optimize-for-size');
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
