// The live network views' place: links, addresses and routes of each namespace arrive later.
export function LiveViews() {
  return (
    <section className="section views" aria-labelledby="views-heading">
      <h2 id="views-heading">Live network views</h2>
      <p className="muted">
        Live views of each node's and pod's interfaces, addresses and routes arrive later. Until then, ask the kernel in a terminal: <code>ip -br link</code>, <code>ip -br addr</code>,{' '}
        <code>ip route</code>.
      </p>
    </section>
  );
}
