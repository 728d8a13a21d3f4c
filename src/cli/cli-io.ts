/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export type Flags = Readonly<Record<string, string | boolean | undefined>>;

export interface CommandInput {
  readonly io: CliIo;
  readonly flags: Flags;
  readonly args: readonly string[];
  /** The raw arguments after the command name (for re-spawning `up --detach`). */
  readonly argv: readonly string[];
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Command-specific flags it accepts, besides the global ones. */
  readonly flags: readonly string[];
  /** Returns the process exit code. */
  readonly run: (input: CommandInput) => Promise<number>;
}
