// The lab guide's place: guided labs (steps, checks, hints) arrive later.
export function LabGuide() {
  return (
    <section className="section guide" aria-labelledby="guide-heading">
      <h2 id="guide-heading">Lab guide</h2>
      <p className="muted">Guided labs arrive later. Until then: start a world, open a terminal on a node, create a pod, and look at its network from both sides.</p>
    </section>
  );
}
