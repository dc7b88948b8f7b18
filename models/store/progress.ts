/**
 * A download progress bar on stderr: redrawn in place on a terminal, a line per quarter otherwise (logs).
 */
export class ProgressBar {
  private lastQuarter = -1;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number): void {
    const mb = (n: number) => (n / 1048576).toFixed(1);
    if (!this.out.isTTY) {
      if (!this.total) return;
      const quarter = Math.floor((4 * done) / this.total);
      if (quarter === this.lastQuarter) return;
      this.lastQuarter = quarter;
      this.out.write(`${this.label}: ${quarter * 25}% (${mb(done)} of ${mb(this.total)} MB)\n`);
      return;
    }
    const now = Date.now();
    if (now - this.lastDraw < 100 && done !== this.total) return;
    this.lastDraw = now;
    if (!this.total) {
      this.out.write(`\r${this.label}: ${mb(done)} MB`);
      return;
    }
    const width = 30;
    const filled = Math.min(width, Math.round((width * done) / this.total));
    const pct = Math.min(100, Math.floor((100 * done) / this.total));
    this.out.write(
      `\r${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${pct}% ${mb(done)}/${mb(this.total)} MB`,
    );
  }

  end(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
