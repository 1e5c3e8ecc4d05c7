/** A promise that settles by a deadline: the bound on exporter and provider calls. */

/** `work`, or a resolution after `ms` (logged) if it has not settled by then; 0 = no bound. */
export function bounded(work: Promise<void> | undefined, ms: number, onTimeout: () => void): Promise<void> {
  if (work === undefined) return Promise.resolve();
  if (ms === 0) return work;
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      resolve();
    }, ms);
    work.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
