// A synchronous function as a promise, exactly as an `async` function without `await` would be: it runs
// now, and what it throws becomes a rejection. For contract methods and traced steps that wait for nothing.
export function settle<T>(fn: () => T): Promise<Awaited<T>> {
  return new Promise<Awaited<T>>((resolve) => resolve(fn() as Awaited<T>));
}
