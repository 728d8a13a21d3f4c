#!/usr/bin/env node
import { runCli } from './run-cli.js';

// `pgwarden access plan | head` closes the pipe early: that is the reader's
// choice, not an error worth a stack trace (as for any Unix filter).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
