#!/usr/bin/env node
// Runs the compiled dist/ (npm ci and npm start build it). Compiled JavaScript rather than Node's type
// stripping: stripping keeps a WebAssembly compiler resident, about 18 MB of RSS for a long-lived daemon.

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15)) {
  process.stderr.write(
    `hostmeter needs Node.js 22.15 or later (this is ${process.version}); run it through npm (npm start, npx hostmeter), which uses the Node 24 the project installs\n`,
  );
  process.exit(2);
}
const { main } = await import('../dist/cli.js');
process.exitCode = await main(process.argv.slice(2));
