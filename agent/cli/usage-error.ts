/** A wrong flag or argument: the command prints it on one line and exits 2 (README, "Exit codes"). */
export class UsageError extends Error {}
