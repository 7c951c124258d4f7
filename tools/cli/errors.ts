// Errors the CLI reports as a message and an exit code, never as a stack trace.
/** Wrong command line: exit 2 with usage. */
export class UsageError extends Error {}
/** Bad input (files, policies, requests): exit 1. */
export class UserError extends Error {}
