// Why the world failed, and the fix the doctor suggests: shown until the next start.
import { useAppState } from '../state/context.ts';

export function WorldError() {
  const world = useAppState((s) => s.world);
  if (!world.error) return null;
  return (
    <section className="world-error" role="alert" data-testid="world-error" aria-labelledby="world-error-title">
      <h2 id="world-error-title">
        {world.state === 'failed' ? 'The world could not start' : 'The world reported an error'}
      </h2>
      <pre className="world-error-text">{world.error}</pre>
      {world.fix && (
        <>
          <h3>How to fix it</h3>
          <pre className="world-error-fix" data-testid="world-error-fix">
            {world.fix}
          </pre>
        </>
      )}
    </section>
  );
}
