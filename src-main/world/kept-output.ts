// What the engine keeps of a stream a world process writes: its first part, and a count of the rest.
// A command or a plugin that prints 700 MB then costs the engine no more than one that prints a line,
// and whoever shows the output says how much was cut.

/** "699.2 MB": a count of cut bytes as a reader takes it in. */
function formatCut(n: number): string {
  if (n < 1000) return `${n} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}

/** Keeps the first `limit` bytes of a stream and counts the rest. */
export class KeptOutput {
  private readonly parts: Buffer[] = [];
  private kept = 0;
  private cut = 0;

  constructor(private readonly limit: number) {}

  push(d: Buffer): void {
    const room = this.limit - this.kept;
    if (room > 0) {
      // a slice would pin the whole chunk: copy the part that is kept
      const part = d.length <= room ? d : Buffer.from(d.subarray(0, room));
      this.parts.push(part);
      this.kept += part.length;
    }
    this.cut += Math.max(0, d.length - Math.max(0, room));
  }

  /** The kept text, and a last line saying how much was cut (if anything was). */
  text(): string {
    const s = Buffer.concat(this.parts).toString();
    return this.cut ? `${s}\n… ${formatCut(this.cut)} more cut` : s;
  }
}
