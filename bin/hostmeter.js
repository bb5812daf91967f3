#!/usr/bin/env node
// The TypeScript sources run as they are through Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `hostmeter needs Node.js >= 22.18 (this is ${process.version}); run it through npm (npm start, npx hostmeter), which uses the Node 24 the project installs\n`,
  );
  process.exit(2);
}
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
