// The clients process of the SSE fan-out scenario (bench/scenarios/sse-fanout.mjs): opens N
// connections to the server's /events and, per connection, checks that the frames' `"n":`
// values come one after another with no gap and no repeat. Driven over IPC:
//   { open: { port, count } } → { open }   once every connection got its response headers
//   { expect: { upTo, timeoutMs } } → { complete, behind, broken } once every connection has
//     seen n = upTo − 1, or when timeoutMs passed (behind: connections short of it)
// Frames are found in the raw bytes (Buffer.indexOf), not parsed as JSON: the clients must cost
// less than the server, which shares the machine's two cores with them.

import http from 'node:http';

const NEEDLE = Buffer.from('"n":');
/** The notice a connection gets when retention removed events it had not read yet. */
const TRUNCATED = Buffer.from('busline.history_truncated');
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
/** Per connection: the next n it expects (-1: whatever comes first), and whether it broke. */
const connections = [];

function open(port, count) {
  return new Promise((resolve, reject) => {
    let opened = 0;
    for (let i = 0; i < count; i++) {
      const state = { next: -1, broken: undefined, carry: Buffer.alloc(0) };
      connections.push(state);
      const req = http.get({ host: '127.0.0.1', port, path: '/events', agent }, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`connection ${i}: HTTP ${res.statusCode}`));
          return;
        }
        res.on('data', (chunk) => read(state, chunk));
        res.on('end', () => {
          state.broken ??= 'the server ended the response';
        });
        if (++opened === count) resolve();
      });
      req.on('error', (error) => {
        state.broken ??= error.message;
        reject(error);
      });
    }
  });
}

/** Walks the `"n":<digits>` of the chunk; a needle or number cut by the chunk's end waits for the next. */
function read(state, chunk) {
  if (chunk.indexOf(TRUNCATED) !== -1) state.broken ??= 'told history_truncated: retention passed it';
  const bytes = state.carry.length > 0 ? Buffer.concat([state.carry, chunk]) : chunk;
  let at = 0;
  let keepFrom = Math.max(0, bytes.length - (NEEDLE.length - 1));
  for (;;) {
    const found = bytes.indexOf(NEEDLE, at);
    if (found === -1) break;
    let end = found + NEEDLE.length;
    let n = 0;
    while (end < bytes.length && bytes[end] >= 48 && bytes[end] <= 57) n = n * 10 + bytes[end++] - 48;
    if (end === bytes.length) {
      keepFrom = found;
      break;
    }
    if (state.next !== -1 && n !== state.next) state.broken ??= `expected n ${state.next}, got ${n}`;
    state.next = n + 1;
    at = end;
    keepFrom = Math.max(end, bytes.length - (NEEDLE.length - 1));
  }
  state.carry = Buffer.from(bytes.subarray(keepFrom));
}

async function expectUpTo(upTo, timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const behind = connections.filter((c) => c.next < upTo).length;
    const broken = connections.filter((c) => c.broken !== undefined);
    if (behind === 0 || performance.now() > deadline || broken.length > 0)
      return {
        complete: behind === 0 && broken.length === 0,
        behind,
        broken: broken.length,
        why: broken[0]?.broken,
      };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

process.on('message', async (message) => {
  if (message.open) {
    await open(message.open.port, message.open.count);
    process.send({ open: connections.length });
  } else if (message.expect) {
    process.send(await expectUpTo(message.expect.upTo, message.expect.timeoutMs));
  } else if (message.stop) {
    agent.destroy();
    process.exit(0);
  }
});
process.send({ ready: true });
