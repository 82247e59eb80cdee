// A command used wrongly: podnet prints its message and exits 2 (no stack trace).
export class UsageError extends Error {}
