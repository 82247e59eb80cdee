/**
 * Go's time.Sleep: at least `ms`. A kubelet sleep hook's whole seconds come out of the grace period, and
 * Node's timers can fire up to a millisecond early by performance.now(), which would count 0 s for a 1 s sleep.
 */
export async function goSleep(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now())
    await new Promise((r) => setTimeout(r, Math.ceil(left)));
}
