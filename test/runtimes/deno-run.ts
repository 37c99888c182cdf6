/** `deno run` with no config or lock file lookup and no prompt; no update check, no colour: a clean, offline run. */
export const DENO_RUN = ['run', '--no-prompt', '--no-config', '--no-lock'] as const;
export const DENO_ENV = { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
