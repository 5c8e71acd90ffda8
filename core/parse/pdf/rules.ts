/**
 * Ruling lines of a PDF page, read from pdf.js's operator list.
 *
 * `collectRules` runs inside the extractor thread: its source is inlined into the thread's code
 * with Function.prototype.toString, so it must stay self-contained (no imports, no helpers from
 * this module, no TypeScript-only runtime constructs).
 */

/**
 * Axis-aligned ruling lines painted on a page, as a flat list `[x0, y0, x1, y1, ...]` in page
 * points with a top-left origin (`transform` is the viewport's). A horizontal rule has y0 === y1, a
 * vertical one x0 === x1. Stroked straight segments count, and so do filled rectangles thin enough
 * to be lines (how many generators draw table borders), and the edges of shaded cell-sized
 * rectangles. White paint, clipping paths and curves do not; annotation appearances are not in the
 * operator list asked for. A page with more segments
 * than `maxRules` is a drawing, not a table: it yields none.
 */
export function collectRules(fnArray: ArrayLike<number>, argsArray: ArrayLike<unknown>, OPS: Record<string, number>, transform: number[], maxRules: number): number[] {
  // Path commands inside a `constructPath` operation (pdf.js's DrawOPS).
  const [MOVE_TO, LINE_TO, CURVE_TO, QUADRATIC_CURVE_TO, CLOSE_PATH] = [0, 1, 2, 3, 4];
  const THICKNESS = 3;
  const MIN_LENGTH = 4;
  const SKEW = 0.5;
  // A shaded rectangle no bigger than this is a table cell (a header cell set off by colour, not rules): its edges count.
  const SHADED_CELL = { width: 300, height: 40 };
  const multiply = (m: number[], n: number[]) => [
    m[0]! * n[0]! + m[2]! * n[1]!,
    m[1]! * n[0]! + m[3]! * n[1]!,
    m[0]! * n[2]! + m[2]! * n[3]!,
    m[1]! * n[2]! + m[3]! * n[3]!,
    m[0]! * n[4]! + m[2]! * n[5]! + m[4]!,
    m[1]! * n[4]! + m[3]! * n[5]! + m[5]!,
  ];
  const isWhite = (color: unknown) => typeof color === 'string' && /^#f[a-f0-9]f[a-f0-9]f[a-f0-9]$/i.test(color);
  let state = { ctm: transform, fillWhite: false, strokeWhite: false };
  const stack: (typeof state)[] = [];
  const rules: number[] = [];
  const push = (x0: number, y0: number, x1: number, y1: number) => {
    if (Math.abs(y1 - y0) <= SKEW && Math.abs(x1 - x0) >= MIN_LENGTH) {
      const y = (y0 + y1) / 2;
      rules.push(Math.min(x0, x1), y, Math.max(x0, x1), y);
    } else if (Math.abs(x1 - x0) <= SKEW && Math.abs(y1 - y0) >= MIN_LENGTH) {
      const x = (x0 + x1) / 2;
      rules.push(x, Math.min(y0, y1), x, Math.max(y0, y1));
    }
  };
  const strokeOps = new Set([OPS.stroke, OPS.closeStroke, OPS.fillStroke, OPS.eoFillStroke, OPS.closeFillStroke, OPS.closeEOFillStroke]);
  const fillOps = new Set([OPS.fill, OPS.eoFill, OPS.fillStroke, OPS.eoFillStroke, OPS.closeFillStroke, OPS.closeEOFillStroke]);
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] as any;
    if (fn === OPS.save) stack.push({ ...state });
    else if (fn === OPS.restore) state = stack.pop() ?? state;
    else if (fn === OPS.transform) state.ctm = multiply(state.ctm, args);
    else if (fn === OPS.paintFormXObjectBegin) {
      stack.push({ ...state });
      if (Array.isArray(args?.[0]) || ArrayBuffer.isView(args?.[0])) state.ctm = multiply(state.ctm, Array.from(args[0] as ArrayLike<number>));
    } else if (fn === OPS.paintFormXObjectEnd) state = stack.pop() ?? state;
    else if (fn === OPS.setFillRGBColor) state.fillWhite = isWhite(args?.[0]);
    else if (fn === OPS.setStrokeRGBColor) state.strokeWhite = isWhite(args?.[0]);
    else if (fn === OPS.constructPath) {
      const paint = args[0] as number;
      const stroke = strokeOps.has(paint) && !state.strokeWhite;
      const fill = fillOps.has(paint) && !state.fillWhite;
      if (!stroke && !fill) continue;
      const data = (Array.isArray(args[1]) ? args[1][0] : args[1]) as ArrayLike<number> | null;
      if (!data) continue;
      const m = state.ctm;
      const px = (x: number, y: number) => m[0]! * x + m[2]! * y + m[4]!;
      const py = (x: number, y: number) => m[1]! * x + m[3]! * y + m[5]!;
      // One subpath at a time: its points in page space, and whether it has curves.
      let points: number[] = [];
      let curved = false;
      const endSubpath = () => {
        if (fill && !curved && points.length >= 6) {
          let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
          for (let k = 0; k < points.length; k += 2) {
            minX = Math.min(minX, points[k]!); maxX = Math.max(maxX, points[k]!);
            minY = Math.min(minY, points[k + 1]!); maxY = Math.max(maxY, points[k + 1]!);
          }
          const [w, h] = [maxX - minX, maxY - minY];
          if (h <= THICKNESS && w >= MIN_LENGTH) push(minX, (minY + maxY) / 2, maxX, (minY + maxY) / 2);
          else if (w <= THICKNESS && h >= MIN_LENGTH) push((minX + maxX) / 2, minY, (minX + maxX) / 2, maxY);
          else if (w <= SHADED_CELL.width && h <= SHADED_CELL.height && h > THICKNESS) {
            let corners = true;
            for (let k = 0; k < points.length && corners; k += 2) {
              const x = points[k]!, y = points[k + 1]!;
              corners = (Math.abs(x - minX) <= SKEW || Math.abs(x - maxX) <= SKEW) && (Math.abs(y - minY) <= SKEW || Math.abs(y - maxY) <= SKEW);
            }
            if (corners) {
              push(minX, minY, maxX, minY);
              push(minX, maxY, maxX, maxY);
              push(minX, minY, minX, maxY);
              push(maxX, minY, maxX, maxY);
            }
          }
        }
        points = [];
        curved = false;
      };
      let j = 0;
      let [cx, cy, sx, sy] = [0, 0, 0, 0];
      while (j < data.length) {
        const op = data[j];
        if (op === MOVE_TO) {
          endSubpath();
          cx = sx = px(data[j + 1]!, data[j + 2]!);
          cy = sy = py(data[j + 1]!, data[j + 2]!);
          points.push(cx, cy);
          j += 3;
        } else if (op === LINE_TO) {
          const x = px(data[j + 1]!, data[j + 2]!);
          const y = py(data[j + 1]!, data[j + 2]!);
          if (stroke) push(cx, cy, x, y);
          points.push(x, y);
          [cx, cy] = [x, y];
          j += 3;
        } else if (op === CURVE_TO || op === QUADRATIC_CURVE_TO) {
          const n = op === CURVE_TO ? 6 : 4;
          cx = px(data[j + n - 1]!, data[j + n]!);
          cy = py(data[j + n - 1]!, data[j + n]!);
          curved = true;
          j += n + 1;
        } else if (op === CLOSE_PATH) {
          if (stroke) push(cx, cy, sx, sy);
          [cx, cy] = [sx, sy];
          j += 1;
        } else break;
      }
      endSubpath();
      if (rules.length > 4 * maxRules) return [];
    }
  }
  return rules;
}
