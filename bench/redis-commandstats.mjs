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
