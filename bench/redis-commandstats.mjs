// Redis's own CPU accounting (INFO commandstats), which machine noise does not inflate as much as
// wall time: the Redis scenarios and bench/redis-append-cost.mjs read it before and after a run.

/** `{ command: { calls, usec } }` since the last CONFIG RESETSTAT (commands run by scripts included). */
export async function commandStats(client) {
  const info = await client.info('commandstats');
  const stats = {};
  for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+),usec=(\d+)/gm)) {
    stats[m[1]] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return stats;
}

/** Redis's own CPU time so far, in µs (INFO cpu: used_cpu_user + used_cpu_sys, the whole server). */
export async function serverCpuUs(client) {
  const info = await client.info('cpu');
  const read = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (read('used_cpu_user') + read('used_cpu_sys')) * 1e6;
}
