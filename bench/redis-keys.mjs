// Clean-up of the Redis scenarios: every key a run wrote lives under its own unique prefix.

/** Deletes every key under prefixes starting with `base` (`{base…}:…`); returns how many. */
export async function deleteKeys(client, base) {
  let deleted = 0;
  for await (const chunk of client.scanIterator({ MATCH: `{${base}*`, COUNT: 1000 })) {
    const keys = Array.isArray(chunk) ? chunk : [chunk];
    if (keys.length) deleted += await client.del(keys);
  }
  return deleted;
}
