/**
 * `{ value }` once `promise` resolves, or `undefined` if it has not settled within `ms`; a
 * rejection passes through. The timer is cleared either way, so none is left to hold the
 * process. The promise itself is not cancelled: its late answer is ignored.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<{ value: T } | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([Promise.resolve(promise).then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
