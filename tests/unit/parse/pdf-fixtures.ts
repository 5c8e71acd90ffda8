/**
 * Tiny PDFs written by hand, so layout cases (ruled tables, merged cells, font weights) are exact
 * and need no committed files. Coordinates are PDF user space: points, origin at the bottom left.
 */

/** Standard 14 fonts available to every page as /F1, /F2, ... */
const FONTS = ['Helvetica', 'Helvetica-Bold', 'Times-Roman', 'Courier'] as const;
export type StandardFont = (typeof FONTS)[number];

const escape = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);

/** A text run at (x, baseline y). */
export function text(x: number, y: number, s: string, size = 10, font: StandardFont = 'Helvetica'): string {
  return `BT /F${FONTS.indexOf(font) + 1} ${size} Tf ${x} ${y} Td (${escape(s)}) Tj ET`;
}

/** A stroked straight line. */
export function line(x0: number, y0: number, x1: number, y1: number, width = 0.5): string {
  return `${width} w ${x0} ${y0} m ${x1} ${y1} l S`;
}

/** A filled rectangle: thin ones are how many generators draw table borders. */
export function bar(x: number, y: number, w: number, h: number): string {
  return `${x} ${y} ${w} ${h} re f`;
}

/** A horizontal rule from x0 to x1 centred on y, painted as pdfTeX paints booktabs rules: a thin filled rectangle. */
export function rule(x0: number, x1: number, y: number, weight = 0.4): string {
  return bar(x0, y - weight / 2, x1 - x0, weight);
}

/** A PDF whose pages have the given content streams (operators joined by newlines). */
export function pdf(pages: string[][], size: { width: number; height: number } = { width: 612, height: 792 }): Uint8Array {
  const objects: string[] = [];
  const add = (body: string) => objects.push(body);
  const fontRefs = FONTS.map((_, i) => `/F${i + 1} ${3 + i} 0 R`).join(' ');
  const firstPage = 3 + FONTS.length;
  add('<< /Type /Catalog /Pages 2 0 R >>');
  add(`<< /Type /Pages /Count ${pages.length} /Kids [${pages.map((_, i) => `${firstPage + 2 * i} 0 R`).join(' ')}] >>`);
  for (const font of FONTS) add(`<< /Type /Font /Subtype /Type1 /BaseFont /${font} /Encoding /WinAnsiEncoding >>`);
  pages.forEach((ops, i) => {
    const stream = ops.join('\n');
    add(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${size.width} ${size.height}] /Resources << /Font << ${fontRefs} >> >> /Contents ${firstPage + 2 * i + 1} 0 R >>`);
    add(`<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
  });
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new Uint8Array(Buffer.from(out, 'latin1'));
}
