/** A frame of the live push table, and how many terminal rows it takes (what the next redraw moves up). */
export interface ScreenFrame {
  text: string;
  rows: number;
}

/**
 * Fits renderPushTable()'s text (header, one line per box, a blank line, the summary) to a terminal of
 * `columns` x `rows` for the in-place redraw of `vigil fleet push`. The redraw moves the cursor up by the
 * rows the last frame took: a box line wrapping would leave stale rows behind, and a frame taller than
 * the screen scrolls rows off that can never be redrawn (the table is printed again under itself at every
 * answer). So box lines are cut to the width, boxes past the screen's height are counted on one line, and
 * the summary wraps (its counts matter most) with its rows counted. The whole table is printed at the end.
 */
export function fitToScreen(table: string, columns: number, rows: number): ScreenFrame {
  const width = Math.max(20, columns);
  const lines = table.split('\n');
  const summary = lines.pop() ?? '';
  lines.pop(); // the blank line before the summary
  const [header = '', ...boxes] = lines;
  const summaryRows = Math.max(1, Math.ceil(summary.length / width));
  // Leave the last row free: the cursor sits there after the frame.
  const room = Math.max(1, rows - 1 - summaryRows - 2);
  let shown = boxes;
  if (boxes.length > room) {
    const keep = Math.max(0, room - 1);
    shown = [...boxes.slice(0, keep), `… ${boxes.length - keep} more (the whole table when the push ends)`];
  }
  const cut = (l: string) => (l.length <= width - 1 ? l : `${l.slice(0, width - 2)}…`);
  const body = [header, ...shown].map(cut);
  return { text: [...body, '', summary].join('\n'), rows: body.length + 1 + summaryRows };
}
