// Child processes of the multi-process scenarios (Redis groups, Redis publishers): each child
// answers `{ ready }` once started, then one message per request it is sent.

import { fork } from 'node:child_process';

/** Forks `path` with `args` and resolves with the child once it said it is ready. */
export function spawnChild(path, args) {
  const child = fork(path, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', () => resolve(child));
  });
}

/** Sends `message` and resolves with the child's first reply that has the field `answer`. */
export function ask(child, message, answer) {
  return new Promise((resolve) => {
    const onMessage = (m) => {
      if (!m[answer]) return;
      child.off('message', onMessage);
      resolve(m);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}
