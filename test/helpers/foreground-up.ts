import { spawn } from 'node:child_process';
import { CLI, cleanEnv, collectOutput } from './pgwarden-cli.js';

/** `pgwarden up` running in the foreground, as a terminal user starts it. */
export interface ForegroundUp {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves once up prints "press Ctrl-C to stop", or up exits first. */
  readonly ready: () => Promise<void>;
  /** Sends `signal` and resolves with the exit status. */
  readonly stop: (signal: NodeJS.Signals) => Promise<number | null>;
}

export function foregroundUp(
  args: readonly string[],
  cwd: string,
  registerCleanup: (fn: () => void) => void,
  env: Record<string, string> = {},
): ForegroundUp {
  const child = spawn(process.execPath, [CLI, 'up', ...args], {
    cwd,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  registerCleanup(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const output = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    stdout: output.stdout,
    stderr: output.stderr,
    async ready() {
      const deadline = Date.now() + 90_000;
      while (
        !output.stdout().includes('press Ctrl-C to stop') &&
        child.exitCode === null &&
        Date.now() < deadline
      ) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    stop(signal) {
      child.kill(signal);
      return exited;
    },
  };
}
